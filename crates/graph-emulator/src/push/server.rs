//! The socket.io v4 server behind every notificationUrl (docs/PROTOCOL.md §2.5, §2.6, §2.12):
//! Engine.IO v4 over the websocket transport only (a long-polling request is refused with HTTP 400,
//! as the real service refuses polling), the URL's path as the namespace `/notifications`, the
//! token from the URL's query. A client may join `/notifications` alone or after the default
//! namespace `/`, as peers do; notifications come on `/notifications` only. This module must never
//! accept a socket without a live token, and never log a token.

use std::sync::Arc;

use socketioxide::extract::SocketRef;
use socketioxide::handler::ConnectHandler as _;
use socketioxide::layer::SocketIoLayer;
use socketioxide::{SocketIo, TransportType};

use super::NAMESPACE;
use crate::Shared;

/// The default namespace, which peers join before `/notifications`.
const DEFAULT_NAMESPACE: &str = "/";

fn token_of(s: &SocketRef) -> Option<String> {
    let q = s.req_parts().uri.query()?;
    url::form_urlencoded::parse(q.as_bytes())
        .find(|(k, _)| k == "token")
        .map(|(_, v)| v.into_owned())
}

/// Why a socket was refused (sent to the client as the connect error's message).
#[derive(Debug, thiserror::Error)]
pub enum PushRefusal {
    #[error("unauthorized: missing token")]
    MissingToken,
    #[error("unauthorized: unknown or expired token")]
    UnknownToken,
}

/// Builds the socket.io layer and registers both namespaces.
pub fn build_layer(shared: &Arc<Shared>) -> SocketIoLayer {
    let (layer, io) = SocketIo::builder()
        .ping_interval(shared.config.ping_interval)
        .ping_timeout(shared.config.ping_timeout)
        .transports([TransportType::Websocket])
        .build_layer();
    register(&io, shared, NAMESPACE);
    register(&io, shared, DEFAULT_NAMESPACE);
    let _ = shared.push.io.set(io);
    layer
}

fn register(io: &SocketIo, shared: &Arc<Shared>, namespace: &'static str) {
    let auth_state = shared.clone();
    let auth = move |s: SocketRef| {
        let shared = auth_state.clone();
        async move {
            let token = token_of(&s).ok_or(PushRefusal::MissingToken)?;
            if shared.push.live(&token).is_none() {
                return Err(PushRefusal::UnknownToken);
            }
            // Registered before the CONNECT reply goes out, so a change made the moment the
            // client sees the connect still reaches it.
            shared.push.sockets().insert((s.id, namespace), token);
            Ok(())
        }
    };
    let conn_state = shared.clone();
    let on_connect = move |s: SocketRef| {
        let shared = conn_state.clone();
        async move {
            tracing::info!(sid = %s.id, namespace, "socket joined");
            let gone = shared.clone();
            s.on_disconnect(move |s: SocketRef| {
                let shared = gone.clone();
                async move {
                    shared.push.sockets().remove(&(s.id, namespace));
                    tracing::info!(sid = %s.id, namespace, "socket left");
                }
            });
            // This handler runs after the CONNECT reply went out, so a link dropped the moment
            // the client saw it closed with no disconnect handler in place yet: forget it here,
            // or it would count as connected for good. (Closing marks the socket disconnected
            // before it looks for the handler, so one of the two always removes it.)
            if !s.connected() {
                shared.push.sockets().remove(&(s.id, namespace));
            }
        }
    };
    io.ns(namespace, on_connect.with(auth));
}
