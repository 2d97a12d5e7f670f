// What each resource plugs into the generic create/update pipeline (the registry "strategy" of the real API server).
import type { Authorizer, UserInfo } from './authz.js';
import type { FieldError } from './errors.js';
import type { KObject } from './store.js';

export interface StrategyContext {
  user: UserInfo;
  authz: Authorizer;
}

export interface Strategy {
  /** Mutates the new object before validation (PrepareForCreate). */
  prepareCreate?(obj: KObject, ctx: StrategyContext): void;
  validateCreate?(obj: KObject): FieldError[];
  /** Validating admission; throws an ApiError (403). */
  admitCreate?(obj: KObject, ctx: StrategyContext): void;
  /** PrepareForUpdate for the main resource (subresource undefined) or a subresource. */
  prepareUpdate?(obj: KObject, old: KObject, subresource: string | undefined): void;
  validateUpdate?(obj: KObject, old: KObject, subresource: string | undefined): FieldError[];
  admitUpdate?(obj: KObject, old: KObject, subresource: string | undefined, ctx: StrategyContext): void;
  /** Field values for field selectors. */
  fields?(obj: KObject): Record<string, string>;
}

export type Json = Record<string, unknown>;

export function asRecord(v: unknown): Json | undefined {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : undefined;
}
