import { setTimeout as sleep } from 'node:timers/promises';

/** Polls `probe` every 25 ms until it answers something other than undefined, and returns that. */
export async function until<T>(probe: () => Promise<T | undefined>, withinMs = 10_000): Promise<T> {
  const started = Date.now();
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() - started > withinMs) throw new Error(`condition not met within ${withinMs} ms`);
    await sleep(25);
  }
}

/** Resolves as `promise` does, or rejects with `message` once `withinMs` have passed without it settling. */
export async function within<T>(promise: Promise<T>, withinMs: number, message: () => string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(message())), withinMs);
  });
  try {
    return await Promise.race([promise, deadline]);
  } finally {
    clearTimeout(timer);
  }
}
