import type { paths } from './schema.gen.ts';

// Names for the shapes screens pass around, taken from the generated API types.

type Json<T> = T extends { content: { 'application/json': infer Body } } ? Body : never;

/** The JSON body of an operation's 200 (or 201) answer. */
export type Ok<Path extends keyof paths, Method extends keyof paths[Path]> = paths[Path][Method] extends { responses: infer R }
  ? R extends { 200: infer A } ? Json<A> : R extends { 201: infer B } ? Json<B> : never
  : never;

export type SessionState = Ok<'/api/v1/auth/session', 'get'>;
export type Role = 'admin' | 'dispatcher' | 'driver' | 'auditor';
export type Permission = SessionState['permissions'][number];
