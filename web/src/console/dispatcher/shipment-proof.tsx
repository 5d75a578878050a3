import { useEffect, useState } from 'preact/hooks';
import { api, client } from '../../api/client.ts';
import type { Ok } from '../../api/types.ts';
import { Button, ErrorNote } from '../../ui/form.tsx';
import { Time, usePermission } from '../planning/common.tsx';
import { checkReceipt, ReceiptVerdict, type ReceiptStatus } from '../audit/receipt-check.tsx';

// A delivered shipment's proof of delivery, opened on request: every read of
// a proof and of each image is recorded in the audit trail, so the page does
// not read one merely because it was opened. Images come through the API
// client as blobs and are shown from object URLs (revoked when the proof is
// closed or the page left), so no image address carries a session or token.
// The receipt is then checked as its holder would check it.

type Proof = Ok<'/api/v1/shipments/{id}/proof', 'get'>;
type ImageRole = Proof['images'][number]['role'];

const RELATIONSHIP: Readonly<Record<string, string>> = { recipient: 'the recipient', neighbour: 'a neighbour', reception: 'reception', other: 'someone else' };
const IMAGE_LABEL: Readonly<Record<ImageRole, string>> = { signature: 'Signature', photo: 'Photo at the door' };

export function ProofOfDelivery(props: { readonly shipmentId: string }) {
  const allowed = usePermission('pod.read');
  const [open, setOpen] = useState(false);
  if (!allowed) return null;
  return (
    <div class="card shipments-proof">
      <h2>Proof of delivery</h2>
      {open ? (
        <ProofView shipmentId={props.shipmentId} />
      ) : (
        <>
          <p class="hint">Opening the proof records in the audit trail that you read it.</p>
          <Button kind="secondary" onClick={() => setOpen(true)}>Show proof of delivery</Button>
        </>
      )}
    </div>
  );
}

function ProofView(props: { readonly shipmentId: string }) {
  const [proof, setProof] = useState<Proof | undefined>(undefined);
  const [error, setError] = useState<unknown>(undefined);
  const [images, setImages] = useState<ReadonlyMap<ImageRole, string>>(new Map());
  const [imageError, setImageError] = useState<unknown>(undefined);
  const [receipt, setReceipt] = useState<ReceiptStatus | undefined>(undefined);
  const [receiptError, setReceiptError] = useState<unknown>(undefined);

  useEffect(() => {
    const state = { live: true };
    // A function, not the flag itself: the compiler would keep its value across the awaits.
    const live = () => state.live;
    const urls: string[] = [];
    void (async () => {
      let loaded: Proof;
      try {
        loaded = await api(() => client.GET('/api/v1/shipments/{id}/proof', { params: { path: { id: props.shipmentId } } }));
      } catch (failure) {
        if (live()) setError(failure);
        return;
      }
      if (!live()) return;
      setProof(loaded);
      checkReceipt(loaded.receiptId, loaded.receipt)
        .then((status) => {
          if (live()) setReceipt(status);
        })
        .catch((failure: unknown) => {
          if (live()) setReceiptError(failure);
        });
      try {
        const shown = new Map<ImageRole, string>();
        for (const image of loaded.images) {
          const blob = await api(() => client.GET('/api/v1/proofs/{id}/images/{role}', { params: { path: { id: loaded.proofId, role: image.role } }, parseAs: 'blob' }));
          if (!live()) return;
          const url = URL.createObjectURL(blob);
          urls.push(url);
          shown.set(image.role, url);
        }
        if (live()) setImages(shown);
      } catch (failure) {
        if (live()) setImageError(failure);
      }
    })();
    return () => {
      state.live = false;
      for (const url of urls) URL.revokeObjectURL(url);
    };
  }, [props.shipmentId]);

  if (proof === undefined) return error === undefined ? <p role="status">Loading the proof of delivery…</p> : <ErrorNote error={error} />;
  const { facts } = proof;
  return (
    <>
      <dl class="facts">
        <dt>Delivered</dt>
        <dd><Time iso={facts.server_time} /> (driver's device: <Time iso={facts.device_time} />)</dd>
        <dt>Handed to</dt>
        <dd>{proof.signer === null ? (RELATIONSHIP[facts.relationship] ?? facts.relationship) : `${proof.signer.name}, ${RELATIONSHIP[proof.signer.relationship] ?? proof.signer.relationship}`}</dd>
        <dt>Location</dt>
        <dd>{proof.locationVerified ? `verified: ${Math.round(facts.distance_m)} m from the destination` : `not verified: ${Math.round(facts.distance_m)} m from the destination, farther than the ${Math.round(facts.radius_m)} m allowed`}</dd>
        <dt>Delivery PIN</dt>
        <dd>{facts.pin_verified ? 'checked' : 'not used'}</dd>
        <dt>Receipt id</dt>
        <dd><code>{proof.receiptId}</code></dd>
        <dt>Personal data</dt>
        <dd>{proof.personalData === 'shredded' ? <>shredded <Time iso={proof.personalShreddedAt} /></> : <>kept until <Time iso={proof.personalExpiresAt} /></>}</dd>
      </dl>
      <h3>The receipt</h3>
      <div role="status" aria-live="polite">
        {receipt === undefined ? (receiptError === undefined ? <p>Checking the receipt…</p> : null) : <ReceiptVerdict status={receipt} />}
      </div>
      <ErrorNote error={receiptError} />
      {proof.images.length === 0 ? (
        <p class="shipments-muted">{proof.personalData === 'shredded' ? 'The images were shredded with the personal data.' : 'No images.'}</p>
      ) : (
        <div class="shipments-proof-images">
          {proof.images.map((image) => {
            const url = images.get(image.role);
            return (
              <figure key={image.role}>
                {url === undefined ? <p class="shipments-muted">{imageError === undefined ? 'Loading…' : 'Not shown.'}</p> : <img src={url} alt={`${IMAGE_LABEL[image.role]} of the proof of delivery`} />}
                <figcaption>{IMAGE_LABEL[image.role]}</figcaption>
              </figure>
            );
          })}
        </div>
      )}
      <ErrorNote error={imageError} />
    </>
  );
}
