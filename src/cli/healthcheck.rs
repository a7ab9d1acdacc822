//! `portcullis healthcheck`: asks the local server's `/readyz` and exits 0 only on 200. For
//! container health checks, where the image has no curl. Plain HTTP/1.1 over loopback, so it
//! needs no HTTP client library.

use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

use super::{CliError, Output};
use crate::config::Config;

pub async fn run(config: &Config, out: Output) -> Result<(), CliError> {
    // A server listening on every interface is reached over loopback.
    let mut address = config.listen;
    if address.ip().is_unspecified() {
        let ip = if address.is_ipv4() {
            Ipv4Addr::LOCALHOST.into()
        } else {
            Ipv6Addr::LOCALHOST.into()
        };
        address = SocketAddr::new(ip, address.port());
    }
    let status = tokio::time::timeout(Duration::from_secs(3), probe(address))
        .await
        .map_err(|_| CliError::Usage(format!("no answer from {address} within 3 s")))?
        .map_err(|e| CliError::Usage(format!("cannot reach {address}: {e}")))?;
    let ready = status == 200;
    out.print(
        &serde_json::json!({ "ready": ready, "status": status }),
        || format!("{address}/readyz answered {status}"),
    );
    if ready {
        Ok(())
    } else {
        Err(CliError::Usage(format!("not ready (status {status})")))
    }
}

async fn probe(address: SocketAddr) -> std::io::Result<u16> {
    let mut stream = TcpStream::connect(address).await?;
    let request = format!("GET /readyz HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await?;
    let mut head = vec![0u8; 64];
    let n = stream.read(&mut head).await?;
    // "HTTP/1.1 200 OK"
    let line = String::from_utf8_lossy(&head[..n]);
    line.split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .ok_or_else(|| std::io::Error::other("not an HTTP response"))
}
