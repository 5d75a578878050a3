import type { RampartConfig } from '../../config/schema.ts';
import { proofLimits, type ProofLimits, type SubmissionRules } from './core/index.ts';

// What stored proofs of delivery take from the configuration.

export interface ProofSettings {
  readonly limits: ProofLimits;
  /** The receipts' `iss`. */
  readonly issuer: string;
  /** `delivery.proofRetentionYears`: when the personal part and the images are shredded. */
  readonly retentionYears: number;
  readonly rules?: SubmissionRules;
}

export function proofSettings(config: Pick<RampartConfig, 'delivery' | 'identity'>): ProofSettings {
  return { limits: proofLimits(config.delivery), issuer: config.identity.tokens.issuer, retentionYears: config.delivery.proofRetentionYears };
}
