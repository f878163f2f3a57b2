//! `FaultServer`: a tiny fault-injecting HTTP/1.1 server on a real
//! 127.0.0.1 socket (std::net + one thread per connection), for faults a real
//! registry cannot produce: hangs, connection resets, slow answers, rate
//! limits, redirects to another host, lying `Content-Length`, scripted
//! sequences (`503, 503, 200`). Every request is recorded, credentials
//! included, so tests can assert what a client sent — or did not send.
//!
//! Include it with:
//! ```ignore
//! #[path = "support/fault_server.rs"]
//! mod fault_server;
//! use fault_server::{Behaviour, FaultServer, Route};
//!
//! let server = FaultServer::start(vec![
//!     Route::any("/v2/", Behaviour::status(200)),
//!     Route::new("HEAD", "/v2/app/manifests/", Behaviour::Sequence(vec![
//!         Behaviour::too_many_requests(Some("1")),
//!         Behaviour::manifest_ok("sha256:…", "application/vnd.oci.image.manifest.v1+json", "{}"),
//!     ])),
//! ]);
//! let base = server.url("/"); // http://127.0.0.1:PORT/
//! ```
//!
//! Routing: among routes whose method matches (`None` = any, case-insensitive)
//! and whose `path_prefix` prefixes the request target (path + query), the
//! longest prefix wins; on a tie a route with a method beats one without, then
//! the first declared. Unmatched requests get 404 with an empty body.
//!
//! Connections are keep-alive (several requests each) unless the client sends
//! `Connection: close` (or speaks HTTP/1.0). `Expect: 100-continue` and
//! chunked request bodies are handled. A malformed request drops the
//! connection. Dropping the server closes every connection, hung ones too,
//! and joins all threads.
#![allow(dead_code)]

#[path = "fault_server/http.rs"]
mod http;

#[path = "fault_server/behaviour.rs"]
mod behaviour;

#[path = "fault_server/helm_repository.rs"]
mod helm_repository;

use self::behaviour::{resolve, Action};
pub use self::behaviour::{Behaviour, Route};
// Only the tests that serve charts use it.
#[allow(unused_imports)]
pub use self::helm_repository::helm_repository;
pub use self::http::RecordedRequest;

use std::collections::HashMap;
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

/// The running server; dropping it stops it.
pub struct FaultServer {
    addr: SocketAddr,
    shared: Arc<Shared>,
    acceptor: Option<JoinHandle<()>>,
}

impl FaultServer {
    /// Binds 127.0.0.1 on a free port and starts serving `routes`.
    pub fn start(routes: Vec<Route>) -> FaultServer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("local_addr");
        let shared = Arc::new(Shared {
            routes,
            requests: Mutex::default(),
            sequence_hits: Mutex::default(),
            conns: Mutex::default(),
            stop: AtomicBool::new(false),
            stopped: Mutex::new(false),
            wake: Condvar::new(),
        });
        let acceptor_shared = Arc::clone(&shared);
        let acceptor = thread::spawn(move || accept_loop(&listener, &acceptor_shared));
        FaultServer {
            addr,
            shared,
            acceptor: Some(acceptor),
        }
    }

    /// `127.0.0.1:PORT`.
    pub fn addr(&self) -> String {
        self.addr.to_string()
    }

    pub fn socket_addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT/path` (a missing leading `/` is added).
    pub fn url(&self, path: &str) -> String {
        let slash = if path.starts_with('/') { "" } else { "/" };
        format!("http://{}{slash}{path}", self.addr)
    }

    /// Every request received so far, in arrival order.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        lock(&self.shared.requests).clone()
    }

    /// How many requests had `method` (case-insensitive; `"*"` = any) and a
    /// target starting with `path_prefix`.
    pub fn count(&self, method: &str, path_prefix: &str) -> usize {
        let requests = lock(&self.shared.requests);
        let method_ok =
            |r: &RecordedRequest| method == "*" || r.method.eq_ignore_ascii_case(method);
        requests
            .iter()
            .filter(|r| method_ok(r) && r.path.starts_with(path_prefix))
            .count()
    }
}

impl Drop for FaultServer {
    fn drop(&mut self) {
        *lock(&self.shared.stopped) = true;
        self.shared.stop.store(true, Ordering::SeqCst);
        self.shared.wake.notify_all();
        let _ = TcpStream::connect(self.addr); // wakes the blocked accept()
        if let Some(acceptor) = self.acceptor.take() {
            let _ = acceptor.join();
        }
        let threads = {
            let mut conns = lock(&self.shared.conns);
            for stream in conns.open.values() {
                let _ = stream.shutdown(Shutdown::Both);
            }
            std::mem::take(&mut conns.threads)
        };
        for thread in threads {
            let _ = thread.join();
        }
    }
}

#[derive(Default)]
struct Conns {
    next_id: u64,
    /// Clones of the live sockets, to shut them down on drop.
    open: HashMap<u64, TcpStream>,
    threads: Vec<JoinHandle<()>>,
}

struct Shared {
    routes: Vec<Route>,
    requests: Mutex<Vec<RecordedRequest>>,
    /// Per-`Sequence` hit counters, keyed by the node's address in `routes`.
    sequence_hits: Mutex<HashMap<usize, usize>>,
    conns: Mutex<Conns>,
    /// Fast copy of `stopped` for polling loops.
    stop: AtomicBool,
    stopped: Mutex<bool>,
    wake: Condvar,
}

impl Shared {
    /// Sleeps up to `duration` (`None`: until stopped); returns true if the
    /// server stopped meanwhile.
    fn sleep(&self, duration: Option<Duration>) -> bool {
        let deadline = duration.and_then(|d| Instant::now().checked_add(d));
        let mut stopped = lock(&self.stopped);
        while !*stopped {
            let Some(deadline) = deadline else {
                stopped = self.wake.wait(stopped).unwrap_or_else(|e| e.into_inner());
                continue;
            };
            let now = Instant::now();
            if now >= deadline {
                return false;
            }
            let waited = self.wake.wait_timeout(stopped, deadline - now);
            stopped = waited.unwrap_or_else(|e| e.into_inner()).0;
        }
        true
    }
}

fn accept_loop(listener: &TcpListener, shared: &Arc<Shared>) {
    for stream in listener.incoming() {
        let Ok(stream) = stream else { continue };
        let mut conns = lock(&shared.conns);
        if shared.stop.load(Ordering::SeqCst) {
            return;
        }
        let id = conns.next_id;
        conns.next_id += 1;
        if let Ok(clone) = stream.try_clone() {
            conns.open.insert(id, clone);
        }
        let shared = Arc::clone(shared);
        conns.threads.retain(|t| !t.is_finished());
        conns
            .threads
            .push(thread::spawn(move || serve(&shared, id, stream)));
    }
}

/// Serves one connection, then closes it. The registry clone is removed
/// first: a socket only closes (or resets) once its last handle is dropped.
fn serve(shared: &Shared, id: u64, stream: TcpStream) {
    let _ = serve_requests(shared, &stream);
    lock(&shared.conns).open.remove(&id);
    drop(stream);
}

fn serve_requests(shared: &Shared, stream: &TcpStream) -> std::io::Result<()> {
    while let Some(incoming) = http::read_request(stream, &shared.stop)? {
        let request = incoming.request;
        lock(&shared.requests).push(request.clone());
        let (action, delay) = resolve(&shared.routes, &shared.sequence_hits, &request);
        if !delay.is_zero() && shared.sleep(Some(delay)) {
            return Ok(());
        }
        if let Action::Reset = action {
            if incoming.unread == 0 {
                stream.shutdown(Shutdown::Both)?;
            }
            return Ok(()); // closing with unread bytes sends RST
        }
        http::consume(stream, incoming.unread)?;
        match action {
            Action::Respond(status, headers, body) => {
                if http::write_response(stream, &request, status, headers, body)? {
                    return Ok(());
                }
            }
            Action::Hang | Action::Reset => {
                shared.sleep(None);
                return Ok(());
            }
        }
    }
    Ok(())
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}
