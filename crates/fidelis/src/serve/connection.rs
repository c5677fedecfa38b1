//! One HTTP/1.1 connection: hyper serves the router over the socket while the connection's entry in the
//! table learns when bytes arrive and when each request starts and ends; the task stops at the table's
//! word (timeout, shed, shutdown deadline) or shuts down gracefully when the server does.

use super::table::{Connection, Table};
use axum::Router;
use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use hyper::body::Incoming;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::sync::watch;
use tower::ServiceExt;

/// Serves one connection until it ends or the table closes it.
pub async fn run(
    stream: TcpStream,
    connection: Arc<Connection>,
    table: Arc<Table>,
    router: Router,
    mut shutdown: watch::Receiver<bool>,
) {
    let io = TokioIo::new(Watched { stream, connection: connection.clone() });
    let service = Tracked { router, connection: connection.clone() };
    // hyper's own header_read_timeout is left off: it runs from every wait for a request head, the idle
    // time of a keep-alive connection included, so it cannot give idle connections a longer timeout than
    // a header. The table times both (see `table::Connection::deadline_ms`).
    let http = hyper::server::conn::http1::Builder::new().header_read_timeout(None).serve_connection(io, service);
    tokio::pin!(http);
    let mut graceful = false;
    loop {
        tokio::select! {
            result = http.as_mut() => {
                if let Err(error) = result {
                    tracing::debug!(%error, "connection ended with an error");
                }
                break;
            }
            () = connection.closed() => break,
            _ = shutdown.wait_for(|stopping| *stopping), if !graceful => {
                // Idle connections close now; a request in progress finishes first.
                graceful = true;
                http.as_mut().graceful_shutdown();
            }
        }
    }
    table.remove(connection.id);
}

/// The socket, telling the connection's entry when bytes arrive.
struct Watched {
    stream: TcpStream,
    connection: Arc<Connection>,
}

impl AsyncRead for Watched {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let result = Pin::new(&mut self.stream).poll_read(cx, buf);
        if buf.filled().len() > before {
            self.connection.bytes_read();
        }
        result
    }
}

impl AsyncWrite for Watched {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }
}

/// The router as a hyper service, marking the connection busy from a request's head to the end of its
/// response body.
#[derive(Clone)]
struct Tracked {
    router: Router,
    connection: Arc<Connection>,
}

/// Marks the request finished when dropped: after hyper has written the whole response body, or when the
/// request is abandoned.
struct InFlight(Arc<Connection>);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.request_finished();
    }
}

impl hyper::service::Service<Request<Incoming>> for Tracked {
    type Response = Response<TrackedBody>;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response<TrackedBody>, Infallible>> + Send>>;

    fn call(&self, request: Request<Incoming>) -> Self::Future {
        self.connection.request_started();
        let in_flight = InFlight(self.connection.clone());
        let router = self.router.clone();
        Box::pin(async move {
            let response = router.oneshot(request.map(axum::body::Body::new)).await?;
            Ok(response.map(|body| TrackedBody { body, _in_flight: in_flight }))
        })
    }
}

/// A response body that carries the request's `InFlight` mark.
pub struct TrackedBody {
    body: axum::body::Body,
    _in_flight: InFlight,
}

impl Body for TrackedBody {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        Pin::new(&mut self.body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use hyper::service::service_fn;
    use hyper_util::rt::{TokioIo, TokioTimer};
    use std::convert::Infallible;
    use std::time::Duration;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// The experiment behind leaving hyper's `header_read_timeout` off: its timer also runs while a
    /// keep-alive connection waits, idle, for its next request, so it would close idle connections after
    /// the header timeout.
    #[tokio::test]
    async fn hyper_header_read_timeout_also_closes_idle_keep_alive_connections() {
        let (mut client, server) = tokio::io::duplex(4096);
        let service = service_fn(|_| async { Ok::<_, Infallible>(hyper::Response::new(String::from("ok"))) });
        let connection = hyper::server::conn::http1::Builder::new()
            .timer(TokioTimer::new())
            .header_read_timeout(Duration::from_millis(300))
            .serve_connection(TokioIo::new(server), service);
        let served = tokio::spawn(connection);
        client.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").await.unwrap();
        let mut answer = [0_u8; 1024];
        let n = client.read(&mut answer).await.unwrap();
        assert!(String::from_utf8_lossy(&answer[..n]).starts_with("HTTP/1.1 200"));
        let ended = tokio::time::timeout(Duration::from_secs(2), served).await;
        assert!(ended.is_ok(), "hyper closed the idle keep-alive connection after its header timeout");
    }
}
