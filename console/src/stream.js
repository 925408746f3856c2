// Server-Sent Events over fetch(), so that the token travels in the
// Authorization header (EventSource cannot send one). Parses the
// text/event-stream format (WHATWG HTML, "server-sent events"), keeps the
// last event id and reconnects with Last-Event-ID after the advised retry.
export function openStream({ token, onEvent, onState, params }) {
  const ctl = new AbortController();
  let lastId = null;
  let retry = 2000;
  let stopped = false;

  const sleep = (ms) => new Promise((res) => {
    const t = setTimeout(res, ms);
    ctl.signal.addEventListener("abort", () => { clearTimeout(t); res(); }, { once: true });
  });

  async function run() {
    while (!stopped) {
      try {
        const headers = { Authorization: `Bearer ${token}`, Accept: "text/event-stream" };
        if (lastId !== null) headers["Last-Event-ID"] = lastId;
        const qs = params ? `?${new URLSearchParams(params)}` : "";
        const r = await fetch(`/inventory/v1/events${qs}`, { headers, signal: ctl.signal, cache: "no-store" });
        if (r.status === 401) { onState("unauthorized"); return; }
        if (!r.ok || !r.body) {
          onState("unavailable", r.status);
          await sleep(r.status === 503 ? 5000 : retry);
          continue;
        }
        onState("open");
        await consume(r.body);
        if (!stopped) onState("reconnecting");
      } catch (e) {
        if (stopped) return;
        onState("reconnecting");
      }
      await sleep(retry);
    }
  }

  async function consume(body) {
    const reader = body.pipeThrough(new TextDecoderStream()).getReader();
    let buf = "";
    let data = [];
    let type = "";
    let id = null;
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buf += value;
      let nl;
      while ((nl = buf.search(/\r\n|\r|\n/)) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + (buf[nl] === "\r" && buf[nl + 1] === "\n" ? 2 : 1));
        if (line === "") {
          if (id !== null) lastId = id;
          if (data.length) {
            let parsed = null;
            try { parsed = JSON.parse(data.join("\n")); } catch (e) { parsed = data.join("\n"); }
            onEvent(type || "message", parsed, lastId);
          }
          data = []; type = ""; id = null;
          continue;
        }
        if (line[0] === ":") continue;
        const c = line.indexOf(":");
        const field = c < 0 ? line : line.slice(0, c);
        let v = c < 0 ? "" : line.slice(c + 1);
        if (v[0] === " ") v = v.slice(1);
        if (field === "data") data.push(v);
        else if (field === "event") type = v;
        else if (field === "id" && !v.includes("\0")) id = v;
        else if (field === "retry" && /^\d+$/.test(v)) retry = Number(v);
      }
    }
  }

  run();
  return { close() { stopped = true; ctl.abort(); } };
}
