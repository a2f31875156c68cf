import type { KontorError } from '../../bindings';
import { toKontorError } from '../backend/errors';
import type { Backend, TransactionFilter, TransactionOrder, TransactionRow } from '../backend/types';

export const PAGE_SIZE = 200;

/**
 * The loaded part of a filtered transaction list: pages are fetched by keyset (`next_cursor`) and
 * appended. A new filter or order starts over; answers to an older query are dropped.
 */
export class TransactionList {
  rows = $state.raw<TransactionRow[]>([]);
  nextCursor = $state<string | null>(null);
  totalCount = $state<number | null>(null);
  totalSum = $state<string | null>(null);
  loading = $state(false);
  error = $state<KontorError | null>(null);
  order = $state<TransactionOrder>('newest');
  filter = $state.raw<TransactionFilter>({});

  private readonly backend: Backend;
  private generation = 0;
  private inFlight: Promise<void> | null = null;

  constructor(backend: Backend) {
    this.backend = backend;
  }

  /** Starts over with a filter and order; resolves when the first page is in. */
  reset(filter: TransactionFilter, order: TransactionOrder = this.order): Promise<void> {
    this.generation += 1;
    this.filter = filter;
    this.order = order;
    this.rows = [];
    this.nextCursor = null;
    this.error = null;
    this.inFlight = null;
    return this.fetch(null);
  }

  get hasMore(): boolean {
    return this.nextCursor !== null;
  }

  /** The next page, if there is one and none is loading. */
  loadMore(): Promise<void> {
    if (this.inFlight) return this.inFlight;
    if (this.nextCursor === null || this.error) return Promise.resolve();
    return this.fetch(this.nextCursor);
  }

  private fetch(after: string | null): Promise<void> {
    const generation = this.generation;
    this.loading = true;
    const run = (async () => {
      try {
        const page = await this.backend.transactions({ ...this.filter, order: this.order, after, limit: PAGE_SIZE });
        if (generation !== this.generation) return;
        this.rows = after === null ? page.rows : [...this.rows, ...page.rows];
        this.nextCursor = page.next_cursor;
        this.totalCount = page.total_count;
        this.totalSum = page.total_sum;
      } catch (err) {
        if (generation === this.generation) this.error = toKontorError(err);
      } finally {
        if (generation === this.generation) {
          this.loading = false;
          this.inFlight = null;
        }
      }
    })();
    this.inFlight = run;
    return run;
  }
}
