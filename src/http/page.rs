//! What every server-rendered page uses: the redirect after a POST ([`see_other`]) and the date
//! formats of the pages, as askama filters ([`filters`]: `{{ key.activate_at|minute }}`). The
//! one-time messages a page leaves for the next one are the session's typed values
//! (`TypedSession::set_flash`, `take_flash` and the notices, in `sessions::values`).

use axum::response::{IntoResponse, Redirect, Response};

use crate::urls::Href;

/// 303 See Other: after a POST, the browser GETs the next page (RFC 9110 §15.4.4).
pub fn see_other(location: &Href) -> Response {
    Redirect::to(location.as_str()).into_response()
}

/// 303 to a URL this server did not route: a client's redirect URI (made by
/// [`crate::urls::client_redirect`]) or the admin page that sent the person to sign in.
pub fn see_other_url(location: &str) -> Response {
    Redirect::to(location).into_response()
}

/// Askama filters for times on pages, always in UTC. A template module brings them into scope
/// with `use crate::http::page::filters;`.
pub mod filters {
    use time::OffsetDateTime;

    /// A point in time a page shows: unix seconds, or a time.
    pub trait Instant {
        /// The time, or the raw value to show when it is out of range.
        fn utc(&self) -> Result<OffsetDateTime, String>;
    }

    impl Instant for i64 {
        fn utc(&self) -> Result<OffsetDateTime, String> {
            OffsetDateTime::from_unix_timestamp(*self).map_err(|_| self.to_string())
        }
    }

    impl Instant for OffsetDateTime {
        fn utc(&self) -> Result<OffsetDateTime, String> {
            Ok(self.to_offset(time::UtcOffset::UTC))
        }
    }

    impl<T: Instant + ?Sized> Instant for &T {
        fn utc(&self) -> Result<OffsetDateTime, String> {
            (**self).utc()
        }
    }

    /// `2026-01-31 09:05 UTC`.
    pub fn to_minute(value: &impl Instant) -> String {
        value.utc().map_or_else(
            |raw| raw,
            |t| format!("{} {:02}:{:02} UTC", t.date(), t.hour(), t.minute()),
        )
    }

    /// `2026-01-31 09:05:07` (the audit log, where the order of events matters).
    pub fn to_second(value: &impl Instant) -> String {
        value.utc().map_or_else(
            |raw| raw,
            |t| {
                let (h, m, s) = (t.hour(), t.minute(), t.second());
                format!("{} {h:02}:{m:02}:{s:02}", t.date())
            },
        )
    }

    /// `{{ t|minute }}`: see [`to_minute`].
    #[askama::filter_fn]
    pub fn minute(value: impl Instant, _: &dyn askama::Values) -> askama::Result<String> {
        Ok(to_minute(&value))
    }

    /// `{{ t|second }}`: see [`to_second`].
    #[askama::filter_fn]
    pub fn second(value: impl Instant, _: &dyn askama::Values) -> askama::Result<String> {
        Ok(to_second(&value))
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn times_are_shown_in_utc_to_the_minute_or_second() {
            let t = OffsetDateTime::from_unix_timestamp(1_769_850_307)
                .unwrap()
                .to_offset(time::UtcOffset::from_hms(2, 0, 0).unwrap());
            assert_eq!(to_minute(&t), "2026-01-31 09:05 UTC");
            assert_eq!(to_second(&t), "2026-01-31 09:05:07");
            assert_eq!(to_minute(&t.unix_timestamp()), "2026-01-31 09:05 UTC");
            assert_eq!(to_minute(&i64::MAX), i64::MAX.to_string());
        }
    }
}

#[cfg(test)]
mod tests {
    use askama::Template as _;

    use crate::http::admin::{ConfirmPage, Frame, Section};
    use crate::http::error::ErrorPage;
    use crate::urls::admin;

    /// Both layouts share one `<head>`; the admin pages say so in the title.
    #[test]
    fn pages_share_one_head_and_the_macros_render_the_csrf_field() {
        let error = ErrorPage {
            title: "Gone".into(),
            message: "m".into(),
        };
        let html = error.render().unwrap();
        assert!(html.contains("<title>Gone · Portcullis</title>"), "{html}");
        assert!(html.contains("<meta name=\"referrer\" content=\"no-referrer\">"));

        let confirm = ConfirmPage {
            frame: Frame {
                section: Section::Keys,
                username: "root".into(),
                csrf: "t<1>".into(),
                notice: None,
                problem: None,
            },
            title: "Revoke?".into(),
            message: "m".into(),
            action: admin::keys(),
            button: "Revoke",
            cancel: admin::keys(),
        };
        let html = confirm.render().unwrap();
        assert!(
            html.contains("<title>Revoke? · Portcullis admin</title>"),
            "{html}"
        );
        assert_eq!(html.matches("<head>").count(), 1);
        let field = "<input type=\"hidden\" name=\"csrf\" value=\"t&#60;1&#62;\">";
        assert_eq!(html.matches(field).count(), 2, "{html}");
    }
}
