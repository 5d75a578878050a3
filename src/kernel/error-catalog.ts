// The error catalogue: every stable code Rampart reports, with its HTTP
// status, public title and meaning. The error classes in errors.ts carry these
// codes; docs/ERRORS.md is generated from this table and checked for drift by a
// test. One table, so a code cannot mean two things.

export interface ErrorSpec {
  /** HTTP status when the error reaches a client; 500 for errors that never should. */
  readonly status: number;
  /** Short, public, human-readable summary. Never contains internal state. */
  readonly title: string;
  /** What it means and what to do: shown in docs/ERRORS.md. */
  readonly description: string;
}

export const errorCatalog = {
  internal: {
    status: 500,
    title: 'Internal error',
    description: 'An unexpected failure. The response carries only the request id; the log under that id has the cause.',
  },
  'request.invalid': {
    status: 400,
    title: 'Request failed validation',
    description: 'A parameter, header or body field does not match the endpoint\'s schema. `errors` lists each field and the rule it broke.',
  },
  'request.malformed': {
    status: 400,
    title: 'Malformed request',
    description: 'The request could not be parsed (for example, invalid JSON or an empty JSON body).',
  },
  'request.too_large': {
    status: 413,
    title: 'Request body too large',
    description: 'The body is larger than the plane\'s `bodyLimitBytes`.',
  },
  'request.unsupported_media_type': {
    status: 415,
    title: 'Unsupported media type',
    description: 'The endpoint does not accept the request\'s Content-Type.',
  },
  'request.timeout': {
    status: 408,
    title: 'Request timeout',
    description: 'The client took longer than the plane\'s request timeout to send the request.',
  },
  'route.not_found': {
    status: 404,
    title: 'Not found',
    description: 'No such endpoint on this plane, or no such object visible to the caller.',
  },
  'service.unavailable': {
    status: 503,
    title: 'Service unavailable',
    description: 'The plane is shutting down or a dependency (such as the database) is not reachable. Retry later.',
  },
  'config.invalid': {
    status: 500,
    title: 'Invalid configuration',
    description: 'The configuration file or a `RAMPART_*` variable does not match the schema (unknown key, wrong type, out of range). The message names each option; docs/CONFIG.md describes them.',
  },
  'config.insecure': {
    status: 500,
    title: 'Insecure configuration refused',
    description: 'The configuration is valid but unsafe (for example, a plane bound beyond loopback without TLS). The message says what to change.',
  },
  'config.unreadable': {
    status: 500,
    title: 'Configuration file unreadable',
    description: 'The configuration file could not be read or is not valid JSON.',
  },
  'storage.unavailable': {
    status: 503,
    title: 'Database unavailable',
    description: 'The database could not be reached or opened.',
  },
  'storage.conflict': {
    status: 409,
    title: 'Conflict',
    description: 'The change conflicts with existing data (a unique value already taken).',
  },
  'storage.schema_outdated': {
    status: 503,
    title: 'Database schema outdated',
    description: 'Migrations are pending and automatic migration is off. Run `rampart migrate up`.',
  },
  'storage.migration_failed': {
    status: 500,
    title: 'Migration failed',
    description: 'A migration failed and was rolled back where the database allows. The message names the migration.',
  },
  'crypto.ciphertext_malformed': {
    status: 500,
    title: 'Malformed ciphertext',
    description: 'A stored ciphertext is truncated or not in a Rampart format. The stored value was damaged.',
  },
  'crypto.authentication_failed': {
    status: 500,
    title: 'Ciphertext failed authentication',
    description: 'A stored ciphertext was altered, moved to another row or column, or encrypted under another key. The value is refused rather than returned.',
  },
  'crypto.unknown_key': {
    status: 500,
    title: 'Unknown key',
    description: 'A ciphertext or signature names a key this keyring does not hold (never created here, or retired).',
  },
  'crypto.master_key_invalid': {
    status: 500,
    title: 'Master key invalid',
    description: 'The master key is not 32 bytes of base64 (generate one with `openssl rand -base64 32`).',
  },
  'crypto.master_key_missing': {
    status: 500,
    title: 'Master key missing',
    description: 'No master key was supplied. Production needs `RAMPART_MASTER_KEY` or `keyring.masterKeyFile`.',
  },
  'crypto.master_key_mismatch': {
    status: 500,
    title: 'Master key does not match',
    description: 'The supplied master key is not the one that wrapped this database\'s keys. Supply the original key.',
  },
  'crypto.key_file_insecure': {
    status: 500,
    title: 'Key file permissions too open',
    description: 'The master key file is readable or writable by group or others. `chmod 600` it.',
  },
  'keys.rotation_running': {
    status: 409,
    title: 'Key rotation already running',
    description: 'This server is already rotating the keyring\'s keys (`POST /api/v1/keys/rotate`). `GET /api/v1/keys` shows its progress; start another once it has finished.',
  },
  'backup.invalid': {
    status: 500,
    title: 'Backup invalid',
    description: 'The backup folder has no readable manifest, or the manifest is not a Rampart backup manifest.',
  },
  'backup.mismatch': {
    status: 500,
    title: 'Backup does not match its manifest',
    description: 'A file\'s SHA-256 differs from the manifest, or the manifest\'s authentication code does not verify under this master key. Nothing was restored.',
  },
  'backup.unsupported': {
    status: 500,
    title: 'Backup not supported for this database',
    description: 'Rampart backs up its embedded SQLite database; for PostgreSQL use `pg_dump` (docs/OPERATIONS.md).',
  },
  'backup.target_exists': {
    status: 500,
    title: 'Restore target exists',
    description: 'The database file already exists, or the backup folder is not empty. Pass `--force` to replace the database.',
  },
  'lifecycle.listen_failed': {
    status: 500,
    title: 'Cannot listen',
    description: 'A plane could not bind its address and port (in use, not an address of this machine, or a privileged port). The message names the plane and the option to change.',
  },
  'lifecycle.already_running': {
    status: 500,
    title: 'Rampart is already running',
    description: 'Another Rampart process holds the data directory\'s lock file. Stop it first.',
  },
  'audit.export_invalid': {
    status: 500,
    title: 'Audit export unreadable',
    description: 'The file given to `rampart audit verify --export` is not a Rampart audit export (no header, an unsupported version, a line that is not JSON, or a field the format does not have). The message names the line.',
  },
  'audit.export_unwritable': {
    status: 500,
    title: 'Audit export not written',
    description: 'The file given to `rampart audit export --out` could not be written (missing directory, no permission, disk full). No partial file is left behind.',
  },
  'audit.jwks_invalid': {
    status: 500,
    title: 'Audit verification keys unreadable',
    description: 'The file given to `rampart audit verify --jwks` is not a JWKS (`{"keys": [...]}`), holds a private key, or holds a malformed Ed25519 key. Save the public keys from `/.well-known/jwks.json`.',
  },
  'audit.verification_failed': {
    status: 500,
    title: 'Audit trail failed verification',
    description: 'The audit trail (or export) has been altered: an entry changed, deleted, inserted or moved, its end removed, or a checkpoint forged. The message names the first affected entry; `rampart audit verify` lists every finding. Investigate before trusting the trail.',
  },
  'proof.invalid': {
    status: 400,
    title: 'Proof of delivery refused',
    description: 'The proof-of-delivery submission breaks a rule its schema cannot express: too many signature points in total, a device time that is not a real date, an intent statement that is not one the app shows, or a value that is not canonical base64. `detail` names the field; nothing was stored.',
  },
  'proof.image_invalid': {
    status: 400,
    title: 'Image refused',
    description: 'A proof-of-delivery image (signature rendering or photo) is not a PNG or JPEG, is not the type it was declared as (the bytes decide, not the label), is interlaced or has bytes after its end (PNG), or does not decode. `detail` names the image and the problem; nothing was stored.',
  },
  'proof.image_too_large': {
    status: 413,
    title: 'Image too large',
    description: 'A proof-of-delivery image has more bytes than `delivery.maxPhotoBytes` / `delivery.maxSignatureBytes`, or more pixels than `delivery.maxImagePixels` (read from its header, before it is decoded). Resize it on the device and retry.',
  },
  'proof.receipt_not_genuine': {
    status: 400,
    title: 'Receipt not genuine',
    description: 'The receipt is malformed, is not a Rampart proof-of-delivery receipt (`typ`, algorithm or claims), names a key that is not among the receipt keys given, or its signature does not verify: it was altered or not issued by this Rampart. The message says which.',
  },
  'proof.record_mismatch': {
    status: 400,
    title: 'Proof record does not match its receipt',
    description: 'A proof-of-delivery record (or an image in an export) differs from what its receipt certifies: its content hash, a fact such as the tracking number or location, or its personal-data commitment. The record or image was altered after the receipt was issued.',
  },
  'proof.bundle_not_genuine': {
    status: 400,
    title: 'Proof export not genuine',
    description: 'A proof-of-delivery export bundle is malformed, or its detached signature does not verify with a receipt key: it was altered after it was exported, or not exported by this Rampart.',
  },
  'proof.jwks_invalid': {
    status: 500,
    title: 'Receipt verification keys unreadable',
    description: 'The keys given to verify a receipt are not a JWKS (`{"keys": [...]}`), include a private key, or include a malformed Ed25519 key. Use `rampart receipt jwks`, or the receipt keys saved from `/.well-known/rampart-receipt-keys.json`.',
  },
  'proof.file_unreadable': {
    status: 500,
    title: 'Receipt file unreadable',
    description: 'The file given to `rampart receipt verify` (or its `--jwks` file) could not be read, or holds neither a receipt (a compact JWS) nor a proof export bundle (JSON).',
  },
  'proof.not_found': {
    status: 404,
    title: 'Proof of delivery not found',
    description: 'No proof of delivery with this id (or for this shipment), or one of a shipment the caller may not see.',
  },
  'proof.not_out_for_delivery': {
    status: 409,
    title: 'Shipment not out for delivery',
    description: 'A proof of delivery is accepted only for a shipment that is `out_for_delivery` with the submitting driver. It is already delivered (by another proof), or not yet on its way, or failed or returned. `detail` names its status; nothing was stored.',
  },
  'proof.idempotency_conflict': {
    status: 409,
    title: 'Idempotency key reused',
    description: 'This driver already submitted a proof with this `idempotencyKey` but different content (or for another shipment). A retry must repeat the submission exactly; a new proof needs a new key. Nothing was stored.',
  },
  'proof.requirement_missing': {
    status: 400,
    title: 'Required proof missing',
    description: 'The shipment requires a photo or a delivery PIN (`requiredProof`) and the submission has none, or it requires a PIN and none has been issued for it yet (`POST /api/v1/shipments/{id}/pin`). Nothing was stored.',
  },
  'proof.pin_mismatch': {
    status: 400,
    title: 'Wrong delivery PIN',
    description: 'The PIN in the submission is not the shipment\'s. The attempt is counted and audited; after five wrong PINs proofs are refused until a new PIN is issued. Nothing else was stored.',
  },
  'proof.pin_locked': {
    status: 409,
    title: 'Delivery PIN locked',
    description: 'Five wrong PINs were submitted for this shipment. A dispatcher must issue a new PIN (`POST /api/v1/shipments/{id}/pin`) and give it to the recipient.',
  },
  'proof.personal_data_shredded': {
    status: 410,
    title: 'Personal data shredded',
    description: 'The images and personal data of this proof of delivery were shredded (retention expired, or an erasure request). The receipt and the non-personal facts still verify.',
  },
  'shipment.pin_not_possible': {
    status: 409,
    title: 'No PIN for this shipment',
    description: 'A delivery PIN can be issued only for a shipment that is not yet delivered or returned.',
  },
  'receipt.rate_limited': {
    status: 429,
    title: 'Too many receipt checks',
    description: 'This source address asked for receipt pages too often. Wait for `Retry-After` seconds.',
  },
  'identity.setup_code_invalid': {
    status: 401,
    title: 'Setup code invalid',
    description: 'The one-time setup code is wrong, expired or already used.',
  },
  'identity.password_rejected': {
    status: 400,
    title: 'Password not accepted',
    description: 'Passwords must be 8 to 128 characters and must not appear in the list of common and breached passwords. Any characters are allowed; there are no composition rules.',
  },
  'identity.username_taken': {
    status: 409,
    title: 'Username taken',
    description: 'Another account already has this username.',
  },
  'identity.invalid_state': {
    status: 409,
    title: 'Not possible in the current state',
    description: 'The account, service principal or session is not in a state that allows this (for example, enrolling a second factor that is already enrolled, disabling the last active administrator, or issuing a token to a disabled service principal).',
  },
  'identity.password_disabled': {
    status: 409,
    title: 'Password disabled',
    description: 'Too many consecutive failed sign-ins disabled this account\'s password. An administrator must reset it (`rampart user reset-password`).',
  },
  'auth.required': {
    status: 401,
    title: 'Authentication required',
    description: 'Sign in (or present a valid access token) and retry. Also returned when a session has expired or was ended.',
  },
  'auth.failed': {
    status: 401,
    title: 'Sign-in failed',
    description: 'The username or password is wrong, or sign-in is temporarily locked. The answer is the same in every case so that it reveals nothing about accounts.',
  },
  'auth.mfa_failed': {
    status: 401,
    title: 'Second factor not accepted',
    description: 'The code or passkey assertion was wrong, already used, or the factor is temporarily locked after repeated failures.',
  },
  'auth.mfa_required': {
    status: 401,
    title: 'Second factor required',
    description: 'The password was accepted; complete sign-in with a second factor (`/api/v1/auth/mfa/…`).',
  },
  'auth.enrolment_required': {
    status: 401,
    title: 'Second factor enrolment required',
    description: 'Every account must enrol a second factor (passkey or authenticator app) before it can do anything else.',
  },
  'auth.step_up_required': {
    status: 401,
    title: 'Recent second factor required',
    description: 'This is a sensitive action: prove a second factor again (`POST /api/v1/auth/step-up`) and retry within the step-up window.',
  },
  'auth.token_invalid': {
    status: 401,
    title: 'Invalid access token',
    description: 'The bearer token is malformed, expired, revoked, or not issued by this Rampart for this API.',
  },
  'auth.csrf_failed': {
    status: 403,
    title: 'Cross-site request refused',
    description: 'A state-changing request with a session cookie must carry the session\'s CSRF token in `X-CSRF-Token` and, when the browser sends one, a same-origin `Origin`.',
  },
  'oauth.principal_name_taken': {
    status: 409,
    title: 'Service principal name taken',
    description: 'Another service principal already has this name. Names are unique; pick another or manage the existing one.',
  },
  'device.not_found': {
    status: 404,
    title: 'Device not found',
    description: 'No device with this id is registered.',
  },
  'device.id_taken': {
    status: 409,
    title: 'Device id taken',
    description: 'Another device already has this id. Device ids are unique and never reused.',
  },
  'device.unauthorized': {
    status: 401,
    title: 'Device not authenticated',
    description: 'The SAS token or client certificate is missing, malformed, expired, too long-lived, for another resource, signed with a wrong or rotated key, or the device is disabled. The answer does not say which; the security-events hub and the log do.',
  },
  'device.forbidden': {
    status: 403,
    title: 'Not allowed for this device',
    description: 'Publisher policy: a device sends only as itself, only to hubs its token names, and only with its own id as partition key.',
  },
  'device.disabled': {
    status: 409,
    title: 'Device disabled',
    description: 'The device is disabled, so it cannot be used here (for example, by the fleet simulator). Enable it (`rampart device enable <id>`) or leave it out.',
  },
  'webhook.not_found': {
    status: 404,
    title: 'Webhook endpoint not found',
    description: 'No webhook endpoint with this id exists (or it was deleted).',
  },
  'webhook.delivery_not_found': {
    status: 404,
    title: 'Webhook delivery not found',
    description: 'The endpoint has no delivery with this id.',
  },
  'webhook.url_refused': {
    status: 400,
    title: 'Webhook URL refused',
    description: 'The URL is not an absolute `https://` URL, carries a user name or password, or targets an address webhooks may not reach (loopback, private, CGNAT, link-local and cloud metadata, unique-local, multicast, unspecified, reserved) that is not listed in `webhooks.allowPrivateCidrs`. Plain `http://` is allowed only to allow-listed addresses. `detail` says which rule.',
  },
  'webhook.host_unresolvable': {
    status: 502,
    title: 'Webhook host does not resolve',
    description: 'The endpoint\'s host name did not resolve, or resolved to no addresses. The delivery attempt fails and is retried with backoff; check the URL\'s host name and its DNS records.',
  },
  'webhook.secret_invalid': {
    status: 500,
    title: 'Webhook signing secret invalid',
    description: 'An endpoint\'s signing secret is not `whsec_` followed by 24 to 64 bytes of base64, so its deliveries cannot be signed. Rotate the endpoint\'s secret (`POST /api/v1/webhooks/<id>/rotate-secret`).',
  },
  'webhook.delivery_pending': {
    status: 409,
    title: 'Delivery already pending',
    description: 'The delivery is still queued or being attempted; only a delivered or failed delivery can be sent again.',
  },
  'webhook.event_invalid': {
    status: 500,
    title: 'Invalid webhook event',
    description: 'A shipment event handed to the webhook queue does not match its schema (a programming error). The change that produced it is rolled back with it; the log names the field.',
  },
  'ingest.unknown_hub': {
    status: 404,
    title: 'Unknown hub',
    description: 'No event hub with this name exists: none is configured (see `hubs` in docs/CONFIG.md) or was created through `POST /api/v1/hubs`.',
  },
  'hub.name_taken': {
    status: 409,
    title: 'Hub name taken',
    description: 'The event log already holds a hub with this name: a configured one, one created earlier through the API, or one removed from the configuration whose events are still kept. Pick another name.',
  },
  'hub.configured': {
    status: 409,
    title: 'Hub is defined in the configuration',
    description: 'This hub is named in the configuration (`hubs.<name>`), which is authoritative and re-applied at every start. Change it in the configuration instead of through the API.',
  },
  'hub.partitions_fixed': {
    status: 409,
    title: 'Partition count cannot change',
    description: 'A hub keeps the partition count it was created with: a publisher\'s partition is a hash of its id modulo the count, so another count would move devices to other partitions and break the order of their events. Create a new hub instead.',
  },
  'ingest.invalid_event': {
    status: 400,
    title: 'Event refused',
    description: 'An event is not valid for its hub: malformed JSON or batch, invalid UTF-8, too large, not matching the hub\'s telemetry schema, or a bad property. `detail` names the first problem; nothing from the request was stored.',
  },
  'ingest.throttled': {
    status: 429,
    title: 'Too many failed attempts',
    description: 'This source address failed authentication too often and is refused for a while (`Retry-After`).',
  },
  'depot.not_found': {
    status: 404,
    title: 'Depot not found',
    description: 'No depot with this id exists, or it is outside the caller\'s depot scope.',
  },
  'depot.id_taken': {
    status: 409,
    title: 'Depot id taken',
    description: 'Another depot already has this id. Depot ids are unique; dispatchers\' depot scopes and devices refer to them.',
  },
  'vehicle.not_found': {
    status: 404,
    title: 'Vehicle not found',
    description: 'No vehicle with this id exists, or it belongs to a depot outside the caller\'s scope.',
  },
  'vehicle.id_taken': {
    status: 409,
    title: 'Vehicle id taken',
    description: 'Another vehicle already has this id.',
  },
  'drone.not_found': {
    status: 404,
    title: 'Drone not found',
    description: 'No drone with this id exists, or it belongs to a depot outside the caller\'s scope.',
  },
  'drone.id_taken': {
    status: 409,
    title: 'Drone id taken',
    description: 'Another drone already has this id.',
  },
  'fleet.device_invalid': {
    status: 409,
    title: 'Device cannot be linked',
    description: 'A vehicle links a registered device of kind `truck`, a drone one of kind `drone`, in the same depot and not linked to another vehicle or drone. `detail` says which rule failed.',
  },
  'driver.not_found': {
    status: 404,
    title: 'Driver not found',
    description: 'No driver account with this id, or its home depot is outside the caller\'s scope.',
  },
  'driver.not_eligible': {
    status: 409,
    title: 'Not an eligible driver',
    description: 'The account is disabled, does not have the `driver` role, has no driver profile, or its home depot is not the shipment\'s depot. An enabled driver still awaiting their own setup may be planned for.',
  },
  'shipment.not_found': {
    status: 404,
    title: 'Shipment not found',
    description: 'No shipment with this id, or one the caller may not see (another depot, or another driver\'s shipment).',
  },
  'shipment.invalid_transition': {
    status: 409,
    title: 'Status change not allowed',
    description: 'The shipment\'s status does not allow this change (docs/OPERATIONS.md, "Shipments", has the status machine), or another change came first. Nothing was changed.',
  },
  'shipment.proof_required': {
    status: 409,
    title: 'Proof of delivery required',
    description: 'A shipment becomes `delivered` only with its proof of delivery (signature, photo or PIN, as the shipment requires), never through the plain status endpoint.',
  },
  'shipment.not_editable': {
    status: 409,
    title: 'Shipment can no longer be changed',
    description: 'Shipments out for delivery, delivered or returned cannot be edited; the delivery mode can be changed only before assignment.',
  },
  'shipment.outside_service_area': {
    status: 400,
    title: 'Destination outside the depot\'s service area',
    description: 'The destination point lies outside the depot\'s service area polygon. Choose another depot or correct the coordinates.',
  },
  'shipment.reference_taken': {
    status: 409,
    title: 'Shipment reference taken',
    description: 'Another shipment already carries this sender reference (references are unique, so importing a file twice is refused).',
  },
  'shipment.import_invalid': {
    status: 422,
    title: 'Import refused',
    description: 'One or more CSV rows are invalid and nothing was imported. `rows` lists each problem by row number (1 is the first data row), column and message. Fix them, or import with `skipInvalid` to import only the valid rows.',
  },
  'tracking.rate_limited': {
    status: 429,
    title: 'Too many tracking requests',
    description: 'This source address asked for tracking pages too often. Wait for `Retry-After` seconds.',
  },
  'planning.invalid_input': {
    status: 400,
    title: 'Planning input refused',
    description: 'A route-planning or drone-mission request breaks a rule: a coordinate out of range, a duplicate stop id, a time without a zone, a window that ends before it starts, more stops than one route may hold, or a drone leg crossing the antimeridian. `detail` names each field; nothing was planned.',
  },
  'planning.routing_failed': {
    status: 502,
    title: 'Road routing failed',
    description: 'The OSRM server (`planning.osrmUrl`) timed out, could not be reached, answered with an error code or an unreadable or oversized document, or found no road between some stops. Nothing is substituted silently: the caller may plan again with great-circle distances, and the plan then names that provider. The log has the reason.',
  },
  'planning.mission_refused': {
    status: 422,
    title: 'Drone mission refused',
    description: 'The drone cannot fly this delivery: a straight leg enters a no-fly zone (or the depot or drop point lies in one), the round trip exceeds the drone\'s range less the reserve (`planning.drone.rangeReservePercent`), or the parcel is heavier than its payload limit. `reasons` lists every rule broken.',
  },
  'delivery_route.not_found': {
    status: 404,
    title: 'Delivery route not found',
    description: 'No delivery route with this id (or for this driver and date), or one the caller may not see: another depot\'s for a depot-scoped dispatcher, another driver\'s for a driver.',
  },
  'delivery_route.stop_not_found': {
    status: 404,
    title: 'Route stop not found',
    description: 'No stop with this id on the route, or one on a route the caller may not see.',
  },
  'delivery_route.not_editable': {
    status: 409,
    title: 'Route cannot be changed',
    description: 'The route is completed or cancelled, the stop is no longer pending, the route is not in the status this step needs (started only when planned; stops visited only when in progress), or it changed meanwhile. `detail` says which; reload the route and try again.',
  },
  'delivery_route.shipment_unavailable': {
    status: 409,
    title: 'Shipment cannot go on this route',
    description: 'A shipment given for a route is not in the route\'s depot, is not a truck delivery, is not waiting for assignment (created, or failed for another attempt), is already on an active route, or its window does not start on the route\'s date. `detail` names the shipment and the rule.',
  },
  'delivery_route.taken': {
    status: 409,
    title: 'Driver or vehicle already planned',
    description: 'The driver or the vehicle already has a planned or in-progress route on this date, or the vehicle is inactive or in another depot.',
  },
  'delivery_route.over_capacity': {
    status: 409,
    title: 'Route over the vehicle\'s payload',
    description: 'The parcels of the route weigh more than the vehicle\'s maximum payload.',
  },
  'delivery_route.nothing_to_plan': {
    status: 409,
    title: 'Nothing to plan',
    description: 'Planning a depot\'s day needs unassigned truck shipments with windows on that date, and enabled drivers of the depot (active or awaiting their own setup) with active vehicles that have no route yet that day. `detail` says which is missing.',
  },
  'drone_mission.not_found': {
    status: 404,
    title: 'Drone mission not found',
    description: 'No drone mission with this id, or one of a depot outside the caller\'s scope.',
  },
  'drone_mission.not_possible': {
    status: 409,
    title: 'No mission for this shipment or drone',
    description: 'The shipment is not a drone delivery waiting for dispatch (created), already has a mission, or the drone is inactive, in another depot or has no device. `detail` says which.',
  },
  'drone_mission.not_connected': {
    status: 409,
    title: 'Drone not reachable',
    description: 'The drone\'s device is not connected to the MQTT listener or has not subscribed to its device-bound topic (`devices/{id}/messages/devicebound/#`), or the listener is not running. Nothing was sent; the mission stays planned.',
  },
  'driver.location_rate_limited': {
    status: 429,
    title: 'Too many location pings',
    description: 'This driver sent more location pings than `POST /api/v1/driver/location` accepts per window (`perimeter.rateLimits.driver`). Wait for `Retry-After` seconds.',
  },
  'access.denied': {
    status: 403,
    title: 'Forbidden',
    description: 'The caller\'s role does not grant this action. (Objects the caller may not see answer 404 instead.)',
  },
  'sso.disabled': {
    status: 404,
    title: 'Single sign-on not enabled',
    description: 'This Rampart does not offer sign-in through an external OpenID Connect provider (`identity.sso.enabled` is false).',
  },
  'sso.unavailable': {
    status: 503,
    title: 'Single sign-on provider unavailable',
    description: 'The OpenID Connect provider\'s discovery document could not be read or is not valid for `identity.sso.issuer`. Retry later; the log names the cause.',
  },
  'sso.failed': {
    status: 401,
    title: 'Single sign-on failed',
    description: 'The sign-in through the OpenID Connect provider could not be completed: the request is unknown, expired (10 minutes) or already used, the provider returned an error, or its ID token failed validation. Start sign-in again. The answer is the same in every case; the log has the reason.',
  },
  'sso.unmapped': {
    status: 403,
    title: 'No Rampart role for this identity',
    description: 'The provider vouched for the user, but none of the values of their `identity.sso.rolesClaim` claim is listed in `identity.sso.roleMap` (deny by default). An administrator must map one of the user\'s groups to a role.',
  },
  'sso.username_invalid': {
    status: 403,
    title: 'No usable username for this identity',
    description: 'The provider\'s ID token lacks the `identity.sso.usernameClaim` claim, or its value (lower-cased) is not a valid Rampart username: 2 to 64 characters, a letter first, then letters, digits, `.`, `_` or `-`.',
  },
} as const satisfies Record<string, ErrorSpec>;

export type ErrorCode = keyof typeof errorCatalog;

/** Renders docs/ERRORS.md from the catalogue. */
export function renderErrorsDoc(): string {
  const lines = [
    '# Error codes',
    '',
    '<!-- Generated from src/kernel/error-catalog.ts by `npm run docs`. Do not edit by hand. -->',
    '',
    'Every failure Rampart reports carries one of these stable codes. HTTP responses are',
    '`application/problem+json` (RFC 9457) with `type` `urn:rampart:problem:<code>`, the',
    'status and title below, and the request id; they never include stack traces or',
    'internal messages. The CLI prints `error [<code>]: <message>` and exits non-zero.',
    '',
    '| code | HTTP status | title | meaning |',
    '| --- | --- | --- | --- |',
  ];
  for (const [code, spec] of Object.entries(errorCatalog)) {
    lines.push(`| \`${code}\` | ${spec.status} | ${spec.title} | ${spec.description.replaceAll('|', '\\|')} |`);
  }
  return `${lines.join('\n')}\n`;
}
