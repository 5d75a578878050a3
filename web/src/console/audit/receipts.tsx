import { useId, useState } from 'preact/hooks';
import { Button, ErrorNote } from '../../ui/form.tsx';
import { count, Time } from './format.tsx';
import { checkReceipt, ReceiptVerdict, type ReceiptStatus } from './receipt-check.tsx';

// Checking a delivery receipt the way anyone holding one can: the public
// check at /r/{receiptId}. Pasted here: the receipt itself (the signed text,
// or the JSON the driver app was given), or only its id for the delivery's
// status. The server decides whether the receipt is genuine and unaltered;
// the screen only reads the id out of what was pasted and says the verdict.

const RECEIPT_ID = /^rcpt_[A-Za-z0-9_-]{22,60}$/;
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

/** What a receipt says about itself; shown only once the server has vouched for it. */
interface Claims {
  readonly jti?: unknown;
  readonly tracking_number?: unknown;
  readonly delivered_at?: unknown;
  readonly device_time?: unknown;
  readonly content_hash?: unknown;
  readonly location_verified?: unknown;
  readonly pin_verified?: unknown;
  readonly relationship?: unknown;
  readonly location?: { readonly distance_m?: unknown; readonly accuracy_m?: unknown };
}

type Presented = { readonly receiptId: string; readonly receipt?: string } | { readonly problem: string };

function claimsOf(receipt: string): Claims | undefined {
  const payload = receipt.split('.')[1];
  if (payload === undefined) return undefined;
  try {
    const text = atob(payload.replaceAll('-', '+').replaceAll('_', '/').padEnd(Math.ceil(payload.length / 4) * 4, '='));
    const json: unknown = JSON.parse(new TextDecoder().decode(Uint8Array.from(text, (c) => c.charCodeAt(0))));
    return typeof json === 'object' && json !== null && !Array.isArray(json) ? json : undefined;
  } catch {
    return undefined;
  }
}

/** The receipt id (and the receipt, when there is one) in what was pasted. */
export function readPasted(text: string): Presented {
  const pasted = text.trim();
  if (pasted === '') return { problem: 'Paste a receipt or a receipt id first.' };
  if (RECEIPT_ID.test(pasted)) return { receiptId: pasted };
  let receipt: string | undefined;
  let receiptId: string | undefined;
  if (pasted.startsWith('{')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(pasted);
    } catch {
      return { problem: 'This is not valid JSON. Paste the receipt exactly as it was given.' };
    }
    const fields = typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>) : {};
    if (typeof fields['receipt'] === 'string') receipt = fields['receipt'].trim();
    if (typeof fields['receiptId'] === 'string') receiptId = fields['receiptId'].trim();
    if (receipt === undefined && receiptId === undefined) return { problem: 'This JSON holds no receipt: it has neither a "receipt" nor a "receiptId" field.' };
  } else if (COMPACT_JWS.test(pasted)) {
    receipt = pasted;
  } else {
    return { problem: 'This is neither a receipt nor a receipt id. Receipts are long signed text in three dot-separated parts; receipt ids start with rcpt_.' };
  }
  if (receiptId === undefined && receipt !== undefined) {
    const jti = claimsOf(receipt)?.jti;
    if (typeof jti === 'string') receiptId = jti;
  }
  if (receiptId === undefined || !RECEIPT_ID.test(receiptId)) return { problem: 'Which delivery this receipt is for cannot be read from it: it is damaged or not a Rampart receipt.' };
  return receipt === undefined ? { receiptId } : { receiptId, receipt };
}

const RELATIONSHIP: Readonly<Record<string, string>> = { recipient: 'the recipient', neighbour: 'a neighbour', reception: 'reception', other: 'someone else' };

export default function ReceiptsScreen() {
  const id = useId();
  const [text, setText] = useState('');
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<string | undefined>(undefined);
  const [error, setError] = useState<unknown>(undefined);
  const [result, setResult] = useState<{ status: ReceiptStatus; claims: Claims | undefined; presented: boolean } | undefined>(undefined);

  const submit = async (event: Event) => {
    event.preventDefault();
    setError(undefined);
    setResult(undefined);
    const presented = readPasted(text);
    if ('problem' in presented) {
      setProblem(presented.problem);
      return;
    }
    setProblem(undefined);
    setBusy(true);
    try {
      const status = await checkReceipt(presented.receiptId, presented.receipt);
      setResult({ status, claims: presented.receipt === undefined ? undefined : claimsOf(presented.receipt), presented: presented.receipt !== undefined });
    } catch (failure) {
      setError(failure);
    } finally {
      setBusy(false);
    }
  };

  return (
    <section aria-labelledby="receipts-title">
      <h1 id="receipts-title">Check a delivery receipt</h1>
      <p class="audit-lead">
        A receipt is what the customer is given when a delivery is proven. Checking it asks this server whether it signed the receipt and whether it still matches the proof of
        delivery stored for it, the same check anyone holding the receipt can make.
      </p>
      <form class="card audit-receipt-form" onSubmit={(event) => void submit(event)}>
        <div class="field">
          <label for={id}>Receipt or receipt id</label>
          <textarea
            id={id}
            name="receipt"
            rows={5}
            spellcheck={false}
            autoComplete="off"
            value={text}
            aria-invalid={problem === undefined ? undefined : true}
            aria-describedby={problem === undefined ? `${id}-hint` : `${id}-problem`}
            onInput={(event) => setText(event.currentTarget.value)}
          />
          {problem === undefined ? <p class="hint" id={`${id}-hint`}>The signed text (three parts separated by dots), the JSON it came in, or only its id (rcpt_…) to see the delivery's status.</p> : <p class="field-problem" id={`${id}-problem`}>{problem}</p>}
        </div>
        <Button type="submit" busy={busy}>Check</Button>
      </form>
      <ErrorNote error={error} />
      <div role="status" aria-live="polite">
        {busy ? <p>Checking…</p> : null}
        {result === undefined ? null : <ReceiptVerdict status={result.status} presented={result.presented} />}
      </div>
      {result === undefined ? null : <Facts status={result.status} claims={result.status.verification?.genuine === true && result.status.verification.unaltered ? result.claims : undefined} />}
    </section>
  );
}

function yesNo(value: unknown, yes: string, no: string): string {
  return value === true ? yes : value === false ? no : '—';
}

function Facts(props: { readonly status: ReceiptStatus; readonly claims: Claims | undefined }) {
  const { status, claims } = props;
  const text = (value: unknown) => (typeof value === 'string' || typeof value === 'number' ? String(value) : '—');
  const metres = (value: unknown) => (typeof value === 'number' ? `${count(Math.round(value))} m` : '—');
  return (
    <>
      <h2>The delivery on record</h2>
      <dl class="facts">
        <dt>Receipt id</dt>
        <dd><code>{status.receiptId}</code></dd>
        <dt>Shipment status</dt>
        <dd>{status.shipmentStatus.replaceAll('_', ' ')}</dd>
        <dt>Delivered</dt>
        <dd><Time iso={status.deliveredAt} style="seconds" /></dd>
        <dt>Location</dt>
        <dd>{status.locationVerified ? 'verified: the driver was at the destination' : 'not verified: the driver\'s position was farther from the destination than allowed'}</dd>
      </dl>
      {claims === undefined ? null : (
        <>
          <h2>What the receipt certifies</h2>
          <dl class="facts">
            <dt>Tracking number</dt>
            <dd>{text(claims.tracking_number)}</dd>
            <dt>Delivered at (server)</dt>
            <dd>{typeof claims.delivered_at === 'string' ? <Time iso={claims.delivered_at} style="seconds" /> : '—'}</dd>
            <dt>Driver's device time</dt>
            <dd>{text(claims.device_time)}</dd>
            <dt>Distance from the destination</dt>
            <dd>{metres(claims.location?.distance_m)} (position accurate to {metres(claims.location?.accuracy_m)})</dd>
            <dt>Handed to</dt>
            <dd>{typeof claims.relationship === 'string' ? (RELATIONSHIP[claims.relationship] ?? claims.relationship.replaceAll('_', ' ')) : '—'}</dd>
            <dt>Delivery PIN</dt>
            <dd>{yesNo(claims.pin_verified, 'checked', 'not used')}</dd>
            <dt>Content hash</dt>
            <dd><code class="audit-hash">{text(claims.content_hash)}</code></dd>
          </dl>
        </>
      )}
    </>
  );
}
