//! The admin pages and the actions they post to, each built from typed pieces: ids and role
//! names are percent-encoded segments (see [`super::Href::seg`]).

use std::fmt::Display;

use super::Href;
use crate::admin::actions::{ClientAction, KeyAction, UserAction};
use crate::rbac::Kind;

pub fn dashboard() -> Href {
    Href::of(&["admin"])
}

pub fn clients() -> Href {
    Href::of(&["admin", "clients"])
}

pub fn new_client() -> Href {
    clients().seg("new")
}

pub fn client(client_id: impl Display) -> Href {
    clients().seg(client_id)
}

pub fn edit_client(client_id: impl Display) -> Href {
    client(client_id).seg("edit")
}

pub fn client_action(client_id: impl Display, action: ClientAction) -> Href {
    client(client_id).seg(action.as_str())
}

pub fn users() -> Href {
    Href::of(&["admin", "users"])
}

pub fn new_user() -> Href {
    users().seg("new")
}

pub fn user(id: impl Display) -> Href {
    users().seg(id)
}

pub fn user_action(id: impl Display, action: UserAction) -> Href {
    user(id).seg(action.as_str())
}

pub fn roles() -> Href {
    Href::of(&["admin", "roles"])
}

/// Where a new role or group is posted.
pub fn define(kind: Kind) -> Href {
    roles().seg(kind.plural())
}

pub fn role(kind: Kind, name: impl Display) -> Href {
    define(kind).seg(name)
}

pub fn delete_role(kind: Kind, name: impl Display) -> Href {
    role(kind, name).seg("delete")
}

pub fn keys() -> Href {
    Href::of(&["admin", "keys"])
}

pub fn key_action(action: &KeyAction) -> Href {
    keys().seg(action)
}

pub fn audit() -> Href {
    Href::of(&["admin", "audit"])
}

/// The outbox: mail waiting, sent and given up.
pub fn outbox() -> Href {
    Href::of(&["admin", "outbox"])
}
