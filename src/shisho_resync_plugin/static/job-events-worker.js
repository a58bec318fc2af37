// The SharedWorker that owns a browser's one jobs event stream and fans its events out to every
// tab of the origin (over each tab's MessagePort). Started by job-events.js; one per events URL.
//
// Messages from a tab: {type: "join", url} and {type: "leave"}.
// Messages to a tab:   {type: "status", open} and {type: "event", name, data, id}.
//
// Whose stream: a connection carries the cookies of the moment it was made, so every tab that
// joins makes the stream reconnect (the old connection serves until the new one answers, and the
// new one resumes from the last event id). A page signed in as someone else after a logout
// therefore never receives the previous user's events.

import { JobEventStream } from "./job-event-stream.js";

const ports = new Set();
let stream = null;

function post(message) {
  for (const port of ports) port.postMessage(message);
}

function join(port, url) {
  ports.add(port);
  if (stream === null) {
    stream = new JobEventStream(url, {
      onEvent: (event) => post({ type: "event", ...event }),
      onStatus: (open) => post({ type: "status", open }),
    });
    stream.start();
  } else {
    stream.reopen();
  }
  port.postMessage({ type: "status", open: stream.open });
}

function leave(port) {
  ports.delete(port);
  if (ports.size === 0 && stream !== null) {
    stream.close();
    stream = null;
  }
}

self.addEventListener("connect", (connection) => {
  const port = connection.ports[0];
  port.addEventListener("message", (message) => {
    const { type, url } = message.data || {};
    if (type === "join" && typeof url === "string") join(port, url);
    else if (type === "leave") leave(port);
  });
  port.start();
});
