//! Reading the audit log: newest first, paged, filtered by actor, event type and time. Actors that
//! are users are shown with their username.

use crate::error::Result;
use serde::Serialize;
use sqlx::PgPool;
use time::OffsetDateTime;

/// What to show. Empty text matches everything.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// Part of the actor (`user:…`, `client:…`, `cli`, `system`) or of a user's username.
    pub actor: String,
    /// The start of the event name: `client.` matches every client event.
    pub event: String,
    pub since: Option<OffsetDateTime>,
    pub until: Option<OffsetDateTime>,
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Entry {
    pub id: i64,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    pub actor: String,
    /// The username, when the actor is a user.
    pub actor_name: Option<String>,
    pub event: String,
    pub target: Option<String>,
    pub ip: Option<String>,
    pub details: serde_json::Value,
}

macro_rules! matching {
    () => {
        " from audit_events a left join users u on a.actor = 'user:' || u.id::text \
          where (a.actor ilike $1 or coalesce(u.username, '') ilike $1) \
          and a.event like $2 \
          and ($3::timestamptz is null or a.at >= $3) \
          and ($4::timestamptz is null or a.at < $4) \
          order by a.at desc, a.id desc"
    };
}

/// Matching events are counted up to this many, so a page never reads the whole log; past it
/// the page says "more than" and a filter narrows the search.
pub const COUNT_CAP: i64 = 10_000;

/// How many events match (`$1`..`$4` as in [`PAGE`]), at most [`COUNT_CAP`] + 1, newest first
/// by the time index.
pub const COUNT: &str = concat!(
    "select count(*) from (select 1",
    matching!(),
    " limit 10001) as matched"
);

/// One page of matching events: `$1` a pattern of the actor or username, `$2` of the event
/// name, `$3` and `$4` the time range, `$5` the offset, `$6` the page size.
pub const PAGE: &str = concat!(
    "select a.id, a.at, a.actor, u.username as actor_name, a.event, a.target, \
     host(a.ip) as ip, a.details",
    matching!(),
    " offset $5 limit $6"
);

/// The event names seen so far: one probe of the event index per name (a loose index scan), not a
/// read of the whole log. The index is in pattern order (`~<~`, for the prefix filter).
pub const EVENT_NAMES: &str = "with recursive names(event) as ( \
       (select event from audit_events order by event using ~<~ limit 1) \
       union all \
       select (select a.event from audit_events a where a.event ~>~ n.event \
               order by a.event using ~<~ limit 1) \
       from names n where n.event is not null) \
     select event from names where event is not null order by event";

/// One page of matching events, and how many match (at most [`COUNT_CAP`] + 1).
pub async fn page(
    pool: &PgPool,
    filter: &Filter,
    offset: i64,
    limit: i64,
) -> Result<(Vec<Entry>, i64)> {
    let escape = crate::storage::like_escape;
    let actor = format!("%{}%", escape(&filter.actor));
    let event = format!("{}%", escape(&filter.event));
    let total: i64 = sqlx::query_scalar(COUNT)
        .bind(&actor)
        .bind(&event)
        .bind(filter.since)
        .bind(filter.until)
        .fetch_one(pool)
        .await?;
    let entries = sqlx::query_as(PAGE)
        .bind(&actor)
        .bind(&event)
        .bind(filter.since)
        .bind(filter.until)
        .bind(offset)
        .bind(limit)
        .fetch_all(pool)
        .await?;
    Ok((entries, total))
}

/// The event names seen so far, for the filter's choices.
pub async fn event_names(pool: &PgPool) -> Result<Vec<String>> {
    sqlx::query_scalar(EVENT_NAMES)
        .fetch_all(pool)
        .await
        .map_err(Into::into)
}

/// A date (`2026-11-21`) or a date and time (`2026-11-21T14:30`) in UTC.
pub fn parse_time(raw: &str) -> Result<Option<OffsetDateTime>, String> {
    let format = time::format_description::parse_borrowed::<2>;
    let raw = raw.trim();
    if raw.is_empty() {
        return Ok(None);
    }
    let wrong =
        || format!("`{raw}` is not a date (YYYY-MM-DD) or a date and time (YYYY-MM-DDTHH:MM)");
    let minute = format("[year]-[month]-[day]T[hour]:[minute]").map_err(|_| wrong())?;
    if let Ok(t) = time::PrimitiveDateTime::parse(raw, &minute) {
        return Ok(Some(t.assume_utc()));
    }
    let day = format("[year]-[month]-[day]").map_err(|_| wrong())?;
    time::Date::parse(raw, &day)
        .map(|d| Some(d.midnight().assume_utc()))
        .map_err(|_| wrong())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_count_stops_one_past_the_cap() {
        assert!(COUNT.contains(&format!("limit {})", COUNT_CAP + 1)));
    }

    #[test]
    fn times_are_dates_or_minutes_in_utc() {
        assert_eq!(parse_time("").unwrap(), None);
        let day = parse_time("2026-11-21").unwrap().unwrap();
        assert_eq!(day.unix_timestamp() % 86_400, 0);
        let minute = parse_time("2026-11-21T14:30").unwrap().unwrap();
        assert_eq!(
            minute.unix_timestamp() - day.unix_timestamp(),
            14 * 3600 + 30 * 60
        );
        assert!(parse_time("yesterday").unwrap_err().contains("not a date"));
    }
}
