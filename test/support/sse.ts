// Reading Server-Sent Events from a fetch Response in tests: every message
// with its id, event, data or comment, and how the stream ended.

export interface SseMessage {
  id?: string;
  event?: string;
  data?: string;
  comment?: string;
}

/**
 * Reads Server-Sent Events from a streaming response. `until` reads on until
 * `enough` says stop or the stream ends, and may be called again; `endedBy`
 * says whether the server ended the stream cleanly, the connection was cut,
 * or the reader gave up after `timeoutMs` (a safety net, not a synchronisation).
 */
export function sseStream(response: Response) {
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
  const messages: SseMessage[] = [];
  let buffer = '';
  let endedBy: 'server' | 'cut' | 'timeout' | undefined;
  return {
    messages,
    get endedBy() {
      return endedBy;
    },
    async until(enough: (messages: SseMessage[]) => boolean, timeoutMs = 5000): Promise<SseMessage[]> {
      const deadline = setTimeout(() => {
        endedBy = 'timeout';
        void reader.cancel();
      }, timeoutMs);
      try {
        while (endedBy === undefined && !enough(messages)) {
          let chunk: Awaited<ReturnType<typeof reader.read>>;
          try {
            chunk = await reader.read();
          } catch {
            endedBy = 'cut';
            break;
          }
          if (chunk.done) {
            endedBy ??= 'server';
            break;
          }
          buffer += chunk.value;
          let end: number;
          while ((end = buffer.indexOf('\n\n')) >= 0) {
            const block = buffer.slice(0, end);
            buffer = buffer.slice(end + 2);
            const message: SseMessage = {};
            for (const line of block.split('\n')) {
              if (line.startsWith(':')) message.comment = line.slice(1).trim();
              const match = /^(id|event|data): ?(.*)$/.exec(line);
              if (match?.[1] !== undefined) message[match[1] as 'id' | 'event' | 'data'] = match[2] ?? '';
            }
            messages.push(message);
          }
        }
      } finally {
        clearTimeout(deadline);
      }
      return messages;
    },
    close: () => reader.cancel().catch(() => undefined),
  };
}

/** Reads Server-Sent Events from a streaming response until `enough` says stop. */
export async function readSse(response: Response, enough: (messages: SseMessage[]) => boolean, timeoutMs = 5000): Promise<SseMessage[]> {
  const stream = sseStream(response);
  try {
    return await stream.until(enough, timeoutMs);
  } finally {
    await stream.close();
  }
}
