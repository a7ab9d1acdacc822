//! `PORTCULLIS_TRUSTED_PROXIES` and `X-Forwarded-For`. Input lines: the trusted networks, the TCP
//! peer, then header values. Networks print back to themselves; the client address is the peer
//! or an address from the header, and only the peer when the peer (in its canonical form: an
//! IPv4-mapped IPv6 address is IPv4) is not a trusted proxy.
#![no_main]

use std::net::{IpAddr, SocketAddr};

use axum::extract::ConnectInfo;
use axum::http::{HeaderValue, Request};
use libfuzzer_sys::fuzz_target;
use portcullis::config::parse_networks;
use portcullis::http::client_addr::ClientAddr;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let mut lines = text.split('\n');
    let Ok(trusted) = parse_networks(lines.next().unwrap_or_default()) else {
        return;
    };
    for net in &trusted {
        assert_eq!(
            parse_networks(&net.to_string()).ok().as_deref(),
            Some(&[*net][..])
        );
    }
    let peer = lines
        .next()
        .and_then(|l| l.trim().parse::<IpAddr>().ok())
        .unwrap_or(IpAddr::from([10, 0, 0, 1]));
    let mut request = Request::builder();
    let mut forwarded: Vec<IpAddr> = Vec::new();
    for line in lines {
        if let Ok(value) = HeaderValue::from_str(line) {
            forwarded.extend(
                line.split(',')
                    .filter_map(|e| e.trim().parse::<IpAddr>().ok()),
            );
            request = request.header("x-forwarded-for", value);
        }
    }
    let Ok(request) = request.body(()) else {
        return;
    };
    let (mut parts, ()) = request.into_parts();
    parts
        .extensions
        .insert(ConnectInfo(SocketAddr::new(peer, 4711)));
    let ClientAddr(client) = ClientAddr::of(&parts, &trusted);
    // An IPv4-mapped peer (a dual-stack listener) is its IPv4 address (RFC 4291 §2.5.5.2).
    let peer_trusted = trusted.iter().any(|net| net.contains(&peer.to_canonical()));
    if client.ip() == peer || client.ip().to_canonical() == peer.to_canonical() {
        return;
    }
    assert!(
        peer_trusted,
        "{client} chosen behind an untrusted peer {peer}"
    );
    assert!(
        forwarded
            .iter()
            .any(|f| f.to_canonical() == client.ip().to_canonical()),
        "{client} is neither the peer nor in X-Forwarded-For"
    );
});
