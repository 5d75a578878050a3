import { ApiError } from '../../api/client.ts';

// A delivery receipt checked the way anyone holding it can: the public check
// at /r/{receiptId}, no session sent — the receipt POSTed as text, or only the
// id for the delivery's status. The server says whether it signed the receipt
// and whether it still matches the stored proof; this only words the verdict.
// Used by the receipts screen and a shipment's proof of delivery.

export interface ReceiptStatus {
  readonly receiptId: string;
  readonly shipmentStatus: string;
  readonly deliveredAt: string;
  readonly locationVerified: boolean;
  readonly verification?: { readonly genuine: boolean; readonly unaltered: boolean; readonly problem?: string };
}

export async function checkReceipt(receiptId: string, receipt?: string): Promise<ReceiptStatus> {
  const url = `/r/${encodeURIComponent(receiptId)}`;
  const response = await fetch(url, receipt === undefined ? { credentials: 'omit' } : { method: 'POST', credentials: 'omit', headers: { 'content-type': 'text/plain' }, body: receipt });
  const body: unknown = await response.json().catch(() => undefined);
  if (!response.ok) {
    const retry = Number(response.headers.get('retry-after') ?? Number.NaN);
    throw new ApiError(response.status, body, Number.isFinite(retry) ? retry : undefined);
  }
  return body as ReceiptStatus;
}

/** The verdict; `presented` false: only the id was sent, so only the delivery's status is known. */
export function ReceiptVerdict(props: { readonly status: ReceiptStatus; readonly presented?: boolean }) {
  const check = props.status.verification;
  if (props.presented === false || check === undefined) {
    return (
      <div class="audit-verdict">
        <p class="audit-verdict-line"><span class="badge">Status only</span> No receipt was checked: only the delivery's status is shown. Paste the receipt itself to check it.</p>
      </div>
    );
  }
  if (check.genuine && check.unaltered) {
    return (
      <div class="audit-verdict ok">
        <p class="audit-verdict-line"><span class="badge ok">Valid</span> Valid receipt: signed by this Rampart server, unaltered, and it matches the proof of delivery stored for it.</p>
      </div>
    );
  }
  return (
    <div class="audit-verdict bad">
      <p class="audit-verdict-line">
        <span class="badge bad">Invalid</span> {check.genuine ? 'Invalid receipt: signed by this server, but it does not match the delivery' : 'Invalid receipt: it was not signed by this server as it stands'}
        {check.problem === undefined ? '.' : ` — ${check.problem}.`}
      </p>
    </div>
  );
}
