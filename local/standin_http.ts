// What the Stripe and Resend stand-ins (local/stripe.ts, local/resend.ts) share: serving on
// 127.0.0.1, JSON answers, and the injected faults (the next N calls of a method and path
// answer an error status or lose their connection).

export interface Running<T> {
  url: string;
  port: number;
  standIn: T;
  close(): Promise<void>;
}

/** Serves `handler` on 127.0.0.1 (port 0: any free port); with a `logAs` name, one JSON line per request on stdout. */
export function serve<T>(
  standIn: T,
  handler: (req: Request) => Promise<Response>,
  port = 0,
  logAs?: string,
): Running<T> {
  const logged = async (req: Request) => {
    const t0 = performance.now();
    const res = await handler(req);
    const u = new URL(req.url);
    if (u.pathname === "/_stand-in/health") return res;
    console.log(JSON.stringify({
      time: new Date().toISOString(),
      standin: logAs,
      method: req.method,
      path: u.pathname,
      status: res.status,
      ms: Math.round(performance.now() - t0),
    }));
    return res;
  };
  const server = Deno.serve({ hostname: "127.0.0.1", port, onListen() {} }, logAs ? logged : handler);
  const url = `http://127.0.0.1:${server.addr.port}`;
  return { url, port: server.addr.port, standIn, close: () => server.shutdown() };
}

/** The named request headers that are present. */
export function pickHeaders(req: Request, names: string[]): Record<string, string> {
  return Object.fromEntries(names.filter((h) => req.headers.has(h)).map((h) => [h, req.headers.get(h)!]));
}

export function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json", ...headers } });
}

/** The status line and headers go out, then the connection is cut: the client sees a network error reading the body. */
export function dropConnection(): Response {
  const body = new ReadableStream({
    start(controller) {
      controller.error(new Error("stand-in: connection dropped on purpose (fault injection)"));
    },
  });
  return new Response(body, { status: 500 });
}

/** `pattern`: a path, exactly, or a prefix ending in `*`. */
export function pathMatches(pattern: string, path: string): boolean {
  return pattern.endsWith("*") ? path.startsWith(pattern.slice(0, -1)) : pattern === path;
}

export interface Fault {
  id: string;
  method: string;
  /** The path, exactly, or a prefix ending in `*`. */
  path: string;
  /** How many more calls it answers. */
  remaining: number;
  /** 500, 429, 503, … ; `drop`: the connection is cut before the body. */
  status: number | "drop";
  /** Stripe: the Stripe-Should-Retry header to send (absent when null). */
  should_retry: boolean | null;
}

export class FaultError extends Error {}

/** The injected faults of one stand-in. */
export class Faults {
  list: Fault[] = [];

  /** From a control request's body: {method, path, times?, status?, drop?, should_retry?}. */
  // deno-lint-ignore no-explicit-any
  add(body: any): Fault {
    if (typeof body?.method !== "string" || typeof body?.path !== "string") {
      throw new FaultError("a fault needs method and path");
    }
    const status = body.drop === true ? "drop" : Number(body.status ?? 500);
    if (status !== "drop" && !(Number.isInteger(status) && status >= 400 && status <= 599)) {
      throw new FaultError("status must be 4xx or 5xx (or drop: true)");
    }
    const times = Number(body.times ?? 1);
    if (!Number.isInteger(times) || times < 1) throw new FaultError("times must be a whole number ≥ 1");
    const fault: Fault = {
      id: `fault_${crypto.randomUUID().slice(0, 8)}`,
      method: body.method.toUpperCase(),
      path: body.path,
      remaining: times,
      status,
      should_retry: typeof body.should_retry === "boolean" ? body.should_retry : null,
    };
    this.list.push(fault);
    return fault;
  }

  /** The fault that answers this call, if any (used up after its `times`). */
  take(method: string, path: string): Fault | undefined {
    const fault = this.list.find((f) => f.method === method && pathMatches(f.path, path));
    if (fault) fault.remaining--;
    this.list = this.list.filter((f) => f.remaining > 0);
    return fault;
  }

  /**
   * The answer of the fault that takes this call, if any, noted on the call's record: a dropped
   * connection (status -1), or `answer(status, fault)` in the API's own error shape.
   */
  respond(
    record: { status: number; injected: string | null },
    method: string,
    path: string,
    answer: (status: number, fault: Fault) => Response,
  ): Response | undefined {
    const fault = this.take(method, path);
    if (!fault) return undefined;
    record.injected = `fault ${fault.id}`;
    if (fault.status !== "drop") return answer(fault.status, fault);
    record.status = -1;
    return dropConnection();
  }

  clear() {
    this.list = [];
  }
}
