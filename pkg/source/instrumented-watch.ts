import { Watch, type KubeConfig } from '@kubernetes/client-node';

type WatchParams = Record<string, string | number | boolean | undefined>;
type WatchCallback = (phase: string, apiObj: unknown, watchObj?: unknown) => void;

/** What a KindInformer needs to see of each watch request that client-node's ListWatch makes. */
export interface WatchHooks {
  /** Runs before the request; false means the informer was stopped meanwhile, so do not connect. */
  beforeWatch(): Promise<boolean>;
  /**
   * Asked again once the stream is open: false means the informer was stopped while it
   * connected. ListWatch's stop() aborts only a request it already holds, so a stream that
   * opens afterwards would otherwise stay open for good.
   */
  stillWanted(): boolean;
  /** Query parameters ListWatch has no way to set (bookmarks, server-side timeout). */
  extraParams(): WatchParams;
  /** Turns an event's object into the shape kept in the cache. */
  normalize(phase: string, object: unknown): unknown;
  /** After ListWatch has handled an event, so its resourceVersion already reflects it. */
  afterEvent(phase: string): void;
  /** The server answered 200 and the stream is open. */
  established(): void;
  /** The stream ended; err is null for a clean close by the server. */
  ended(err: unknown): void;
}

/**
 * client-node's Watch with hooks around each request. ListWatch accepts any Watch, and this is
 * the only seam through which allowWatchBookmarks can be sent and stream lifetimes observed.
 */
export class InstrumentedWatch extends Watch {
  constructor(
    config: KubeConfig,
    private readonly hooks: WatchHooks,
  ) {
    super(config);
  }

  override async watch(
    path: string,
    queryParams: WatchParams,
    callback: WatchCallback,
    done: (err: unknown) => void,
  ): Promise<AbortController> {
    if (!(await this.hooks.beforeWatch())) return new AbortController();
    let ended = false;
    const controller = await super.watch(
      path,
      { ...queryParams, ...this.hooks.extraParams() },
      (phase, object, raw) => {
        callback(phase, this.hooks.normalize(phase, object), raw);
        this.hooks.afterEvent(phase);
      },
      (err) => {
        ended = true;
        this.hooks.ended(err);
        done(err);
      },
    );
    if (!this.hooks.stillWanted()) {
      controller.abort();
      return controller;
    }
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- `done` above may have set it before super.watch resolved
    if (!ended) this.hooks.established();
    return controller;
  }
}
