import type { ColumnType, Generated } from 'kysely';

/** A nullable column that inserts may omit (it then holds null). */
export type Optional<T> = ColumnType<T | null, T | null | undefined, T | null>;

// Row shapes of every table, as Kysely sees them. Times are ISO-8601 UTC strings
// on both dialects (the PostgreSQL adapter converts timestamptz to that form).

export interface KeyringStateTable {
  id: number;
  kek_fingerprint: string;
  created_at: string;
}

export interface DataKeyTable {
  id: string;
  purpose: string;
  /** active: encrypts new values · retiring: decrypts only, being re-encrypted away · retired: material destroyed */
  status: 'active' | 'retiring' | 'retired';
  wrapped_key: string | null;
  created_at: string;
  retired_at: string | null;
}

export interface SigningKeyTable {
  kid: string;
  purpose: string;
  alg: 'EdDSA';
  /** active: signs · verify_only: published in the JWKS so old signatures still verify */
  status: 'active' | 'verify_only';
  public_jwk: string;
  wrapped_private_key: string;
  created_at: string;
  rotated_at: string | null;
}

export interface AccountTable {
  id: string;
  username: string;
  role: 'admin' | 'dispatcher' | 'driver' | 'auditor';
  status: 'setup_required' | 'active' | 'disabled';
  created_at: string;
  updated_at: string;
  password_hash: Optional<string>;
  password_changed_at: Optional<string>;
  password_disabled_at: Optional<string>;
  /** JSON array of depot ids (dispatchers); null: every depot. */
  depot_scope: Optional<string>;
  sso_subject: Optional<string>;
}

export interface SetupCodeTable {
  id: string;
  account_id: string;
  code_hash: string;
  expires_at: string;
  used_at: string | null;
  created_at: string;
}

export interface TotpFactorTable {
  account_id: string;
  /** Keyring ciphertext of the base32 secret. */
  secret: string;
  /** The last time step accepted: codes at or before it are refused (single use). */
  last_used_step: number | null;
  confirmed_at: string | null;
  created_at: string;
}

export interface RecoveryCodeTable {
  id: string;
  account_id: string;
  code_hash: string;
  used_at: string | null;
  created_at: string;
}

export interface PasskeyTable {
  /** Credential id, base64url. */
  id: string;
  account_id: string;
  /** COSE public key, base64url. */
  public_key: string;
  sign_count: number;
  /** JSON array of transports. */
  transports: string;
  device_type: string;
  backed_up: number;
  name: string;
  created_at: string;
  last_used_at: string | null;
}

export type SessionStage = 'mfa' | 'enrol' | 'active';

export interface SessionTable {
  id: string;
  /** SHA-256 of the cookie value: a database reader cannot hijack sessions. */
  token_hash: string;
  account_id: string;
  /** mfa: password accepted, second factor pending · enrol: must enrol a second factor · active: signed in */
  stage: SessionStage;
  auth_method: string;
  mfa_at: string | null;
  mfa_method: string | null;
  challenge: string | null;
  challenge_expires_at: string | null;
  source_ip: string;
  user_agent: string;
  created_at: string;
  last_seen_at: string;
  /** Absolute expiry; idle expiry is last_seen_at + the configured idle timeout. */
  expires_at: string;
  ended_at: string | null;
  end_reason: string | null;
}

export interface LoginThrottleTable {
  key: string;
  failures: number;
  locked_until: string | null;
  updated_at: string;
}

export interface SsoRequestTable {
  state_hash: string;
  nonce: string;
  code_verifier: string;
  expires_at: string;
  used_at: string | null;
  created_at: string;
}

export interface ServicePrincipalTable {
  id: string;
  name: string;
  client_id: string;
  secret_hash: string;
  /** JSON array of scopes. */
  scopes: string;
  status: 'active' | 'disabled';
  created_at: string;
  updated_at: string;
}

export type AuditOutcome = 'success' | 'failure' | 'denied';

export interface AuditEntryTable {
  seq: number;
  id: string;
  at: string;
  actor_type: string;
  actor_id: string | null;
  auth_method: string | null;
  action: string;
  target_type: string | null;
  target_id: string | null;
  outcome: AuditOutcome;
  source_ip: string | null;
  user_agent: string | null;
  request_id: string | null;
  /** Canonical JSON object. */
  details: string;
  prev_hash: string;
  hash: string;
}

export interface AuditHeadTable {
  id: number;
  seq: number;
  hash: string;
  checkpoint_seq: number;
  checkpoint_at: string;
}

export interface AuditCheckpointTable {
  seq: number;
  head_hash: string;
  at: string;
  kid: string;
  signature: string;
}

export interface DeviceTable {
  id: string;
  kind: 'drone' | 'truck';
  name: string;
  depot: string;
  status: 'enabled' | 'disabled';
  /** Keyring ciphertexts of the two keys (base64 strings of 32 random bytes). */
  primary_key: string;
  secondary_key: string;
  /** JSON array of SHA-256 certificate thumbprints (lower-case hex). */
  thumbprints: string;
  /** Increases on every change that affects authentication (keys, status, thumbprints). */
  revision: number;
  created_at: string;
  updated_at: string;
  last_seen_at: Optional<string>;
}

export interface WebhookEndpointTable {
  id: string;
  name: string;
  url: string;
  /** JSON array of event types. */
  events: string;
  /** Keyring ciphertext of the signing secret (`whsec_…`). */
  secret: string;
  status: 'enabled' | 'disabled';
  created_at: string;
  updated_at: string;
}

export interface WebhookDeliveryTable {
  id: string;
  endpoint_id: string;
  event_id: string;
  event_type: string;
  /** The exact JSON body sent and signed on every attempt. */
  payload: string;
  attempts: number;
  next_attempt_at: string;
  status: 'pending' | 'delivered' | 'failed';
  last_status_code: Optional<number>;
  /** Why the last attempt failed (never a secret, never the response body). */
  last_error: Optional<string>;
  last_attempt_at: Optional<string>;
  created_at: string;
  delivered_at: Optional<string>;
}

export interface DepotTable {
  id: string;
  name: string;
  lat: number;
  lon: number;
  /** GeoJSON Polygon as JSON text; null until drawn. */
  service_area: Optional<string>;
  created_at: string;
  updated_at: string;
}

export type FleetUnitStatus = 'active' | 'inactive';

export interface VehicleTable {
  id: string;
  name: string;
  depot_id: string;
  /** A device of kind `truck` in the same depot. */
  device_id: Optional<string>;
  plate: Optional<string>;
  max_payload_kg: number;
  status: FleetUnitStatus;
  created_at: string;
  updated_at: string;
}

export interface DroneTable {
  id: string;
  name: string;
  depot_id: string;
  /** A device of kind `drone` in the same depot. */
  device_id: Optional<string>;
  max_range_km: number;
  max_payload_kg: number;
  status: FleetUnitStatus;
  created_at: string;
  updated_at: string;
}

export interface DriverProfileTable {
  account_id: string;
  home_depot_id: string;
  created_at: string;
  updated_at: string;
}

export type ShipmentStatusColumn = 'created' | 'assigned' | 'out_for_delivery' | 'delivered' | 'failed' | 'returned';
export type FailureReasonColumn = 'recipient_absent' | 'address_not_found' | 'refused' | 'damaged' | 'access_denied' | 'weather' | 'other';

export interface ShipmentTable {
  id: string;
  tracking_number: string;
  reference: Optional<string>;
  depot_id: string;
  /** Keyring ciphertexts (purpose `personal`), bound to the row. */
  recipient_name: string;
  recipient_phone: Optional<string>;
  recipient_address: string;
  dest_lat: number;
  dest_lon: number;
  weight_kg: number;
  length_cm: Optional<number>;
  width_cm: Optional<number>;
  height_cm: Optional<number>;
  mode: 'truck' | 'drone';
  window_start: string;
  window_end: string;
  /** JSON array of `signature`, `photo`, `pin`. */
  required_proof: string;
  status: ShipmentStatusColumn;
  failure_reason: Optional<FailureReasonColumn>;
  assigned_driver_id: Optional<string>;
  /** SHA-256 (hex) of the public tracking token. */
  tracking_token_hash: string;
  /** Keyring ciphertext (purpose `personal`) of the delivery PIN, bound to the row; null: none issued. */
  delivery_pin: Optional<string>;
  /** Wrong PINs submitted since the PIN was issued. */
  delivery_pin_failures: Generated<number>;
  /** The last status change (or creation): the tracking page's "last update". */
  last_event_at: string;
  created_at: string;
  updated_at: string;
}

export interface ShipmentEventTable {
  id: string;
  shipment_id: string;
  seq: number;
  /** null for the creation event. */
  from_status: ShipmentStatusColumn | null;
  to_status: ShipmentStatusColumn;
  reason: FailureReasonColumn | null;
  /** Keyring ciphertext (purpose `personal`), bound to the event row. */
  note: string | null;
  driver_id: string | null;
  actor_type: string;
  actor_id: string | null;
  at: string;
}

export type RouteStatus = 'planned' | 'in_progress' | 'completed' | 'cancelled';
export type RouteStopStatus = 'pending' | 'arrived' | 'delivered' | 'failed' | 'removed';
export type RouteEventKind = 'created' | 'optimised' | 'reordered' | 'stop_added' | 'stop_removed' | 'stop_moved' | 'started' | 'completed';

export interface RouteTable {
  id: string;
  depot_id: string;
  driver_id: string;
  vehicle_id: string;
  /** YYYY-MM-DD (UTC). */
  service_date: string;
  status: RouteStatus;
  matrix_provider: 'osrm' | 'great-circle';
  total_distance_m: number;
  total_duration_s: number;
  departure_at: string;
  return_at: string;
  planned_at: string;
  started_at: Optional<string>;
  completed_at: Optional<string>;
  revision: number;
  updated_at: string;
}

export interface RouteStopTable {
  id: string;
  route_id: string;
  shipment_id: string;
  sequence: number;
  status: RouteStopStatus;
  leg_distance_m: number;
  leg_duration_s: number;
  planned_eta: string;
  planned_departure_at: string;
  lateness_s: number;
  arrived_at: Optional<string>;
  finished_at: Optional<string>;
  created_at: string;
}

export interface RouteEventTable {
  id: string;
  route_id: string;
  seq: number;
  kind: RouteEventKind;
  actor_type: string;
  actor_id: string | null;
  at: string;
  /** JSON arrays of shipment ids in visiting order. */
  before_order: string | null;
  after_order: string | null;
  /** JSON object. */
  details: string;
}

export interface DroneMissionTable {
  id: string;
  shipment_id: string;
  drone_id: string;
  depot_id: string;
  status: 'planned' | 'sent';
  /** The DroneMission document (JSON). */
  document: string;
  distance_m: number;
  created_at: string;
  sent_at: Optional<string>;
}

export interface ProofTable {
  id: string;
  receipt_id: string;
  shipment_id: string;
  driver_id: string;
  idempotency_key: string;
  /** SHA-256 (hex) of the canonical JSON of the shipment id and the submission. */
  request_fingerprint: string;
  content_hash: string;
  /** The receipt (compact JWS). */
  receipt: string;
  /** Canonical JSON of the record's facts (everything but `personal`). */
  facts: string;
  /** Keyring ciphertext (purpose `personal`) of the personal part's canonical JSON; null once shredded. */
  personal: string | null;
  server_time: string;
  /** 1 or 0. */
  location_verified: number;
  personal_expires_at: string;
  personal_shredded_at: string | null;
  created_at: string;
}

export interface ProofImageTable {
  id: string;
  proof_id: string;
  role: 'signature' | 'photo';
  content_type: 'image/png' | 'image/jpeg';
  sha256: string;
  /** Keyring ciphertext (purpose `personal`) of the image bytes. */
  bytes: string;
  created_at: string;
}

export interface Tables {
  keyring_state: KeyringStateTable;
  data_keys: DataKeyTable;
  signing_keys: SigningKeyTable;
  accounts: AccountTable;
  setup_codes: SetupCodeTable;
  totp_factors: TotpFactorTable;
  recovery_codes: RecoveryCodeTable;
  passkeys: PasskeyTable;
  sessions: SessionTable;
  login_throttle: LoginThrottleTable;
  sso_requests: SsoRequestTable;
  service_principals: ServicePrincipalTable;
  audit_entries: AuditEntryTable;
  audit_head: AuditHeadTable;
  audit_checkpoints: AuditCheckpointTable;
  devices: DeviceTable;
  depots: DepotTable;
  vehicles: VehicleTable;
  drones: DroneTable;
  driver_profiles: DriverProfileTable;
  shipments: ShipmentTable;
  shipment_events: ShipmentEventTable;
  webhook_endpoints: WebhookEndpointTable;
  webhook_deliveries: WebhookDeliveryTable;
  proofs: ProofTable;
  proof_images: ProofImageTable;
  routes: RouteTable;
  route_stops: RouteStopTable;
  route_events: RouteEventTable;
  drone_missions: DroneMissionTable;
}

export type { Generated };
