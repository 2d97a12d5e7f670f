// Per-request options for @kubernetes/client-node calls made by the controller: every request is bounded by a
// timeout, so a vanished API server turns into an error the loops can retry instead of a hang.
import {
  type ConfigurationOptions,
  Observable,
  type ObservableMiddleware,
  type RequestContext,
  type ResponseContext,
} from '@kubernetes/client-node';

export function timeoutOptions(timeoutMs: number): ConfigurationOptions<ObservableMiddleware> {
  const middleware: ObservableMiddleware = {
    pre(request: RequestContext) {
      request.setSignal(AbortSignal.timeout(timeoutMs));
      return new Observable(Promise.resolve(request));
    },
    post(response: ResponseContext) {
      return new Observable(Promise.resolve(response));
    },
  };
  return { middleware: [middleware], middlewareMergeStrategy: 'append' };
}
