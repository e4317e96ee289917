//! Outgoing email over SMTP (`lettre`, rustls): `smtp://host:port` (STARTTLS when the server
//! offers it, plain otherwise; add `?tls=required` to insist), `smtps://host:port` (implicit
//! TLS); credentials from the URL (`smtp://user:pass@host:587`).
//!
//! Emails are `text/plain; charset=utf-8` (base64 transfer encoding), so text written by a
//! requester (names, details) can never become markup or a header: recipients are parsed
//! as bare addresses, and subjects are Assent's own text.
//!
//! Without SMTP configured nothing is sent: the server logs "email not sent: no SMTP
//! configured" at info level (with the template name and request id, never the recipient)
//! and the caller records the problem so the DPO sees it in the queue.

use std::time::{Duration, UNIX_EPOCH};

use lettre::message::header::{ContentTransferEncoding, ContentType};
use lettre::message::{Body, Mailbox};
use lettre::{Address, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use crate::App;

/// How long one SMTP delivery may take.
pub const SMTP_TIMEOUT: Duration = Duration::from_secs(15);

/// One email. `to` must be a bare address (validated with [`parse_address`]).
#[derive(Debug, Clone)]
pub struct Mail {
    pub to: String,
    pub subject: String,
    pub body: String,
    /// Template name, for logs and the ledger (`verification`, `extension`, ...).
    pub template: &'static str,
}

/// What happened to an email.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Sent,
    /// No SMTP URL configured: logged, not sent.
    NotConfigured,
}

#[derive(Debug, thiserror::Error)]
pub enum MailError {
    #[error("invalid sender address (mail_from): {0}")]
    From(String),
    #[error("invalid recipient address")]
    To,
    #[error("invalid SMTP URL: {0}")]
    Url(String),
    #[error("building the message: {0}")]
    Build(String),
    #[error("SMTP delivery failed: {0}")]
    Smtp(String),
}

/// Parses a bare email address (no display name, no CR/LF, no spaces).
pub fn parse_address(s: &str) -> Option<Address> {
    if s.chars()
        .any(|c| c.is_control() || c.is_whitespace() || c == '<' || c == '>')
    {
        return None;
    }
    s.parse::<Address>().ok()
}

/// Adds STARTTLS-when-offered to a plain `smtp://` URL that does not choose.
fn transport_url(url: &str) -> String {
    if url.starts_with("smtp://") && !url.contains("tls=") {
        let sep = if url.contains('?') { '&' } else { '?' };
        format!("{url}{sep}tls=opportunistic")
    } else {
        url.to_owned()
    }
}

/// Builds the RFC 5322 message (used by [`send`]; public for tests).
pub fn build_message(from: &str, mail: &Mail, now_ms: i64) -> Result<Message, MailError> {
    let from: Mailbox = from.parse().map_err(|e| MailError::From(format!("{e}")))?;
    let to = parse_address(&mail.to).ok_or(MailError::To)?;
    let body = Body::new_with_encoding(mail.body.clone(), ContentTransferEncoding::Base64)
        .map_err(|_| MailError::Build("body encoding".into()))?;
    let date = UNIX_EPOCH + Duration::from_millis(u64::try_from(now_ms).unwrap_or(0));
    Message::builder()
        .from(from)
        .to(Mailbox::new(None, to))
        .subject(mail.subject.clone())
        .date(date)
        .header(ContentType::TEXT_PLAIN)
        .body(body)
        .map_err(|e| MailError::Build(e.to_string()))
}

/// Sends `mail`, or logs that it could not be sent for want of SMTP.
pub async fn send(st: &App, request_id: &str, mail: &Mail) -> Result<Outcome, MailError> {
    let Some(url) = &st.settings.smtp else {
        tracing::info!(
            template = mail.template,
            request = request_id,
            "email not sent: no SMTP configured"
        );
        if let Some(outbox) = &st.demo_outbox {
            outbox.keep(
                st.clock.now_ms(),
                request_id,
                &mail.to,
                &mail.subject,
                &mail.body,
            );
        }
        return Ok(Outcome::NotConfigured);
    };
    let msg = build_message(&st.settings.mail_from, mail, st.clock.now_ms())?;
    let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(&transport_url(url.expose()))
        .map_err(|e| MailError::Url(e.to_string()))?
        .timeout(Some(SMTP_TIMEOUT))
        .build();
    match tokio::time::timeout(SMTP_TIMEOUT + Duration::from_secs(5), transport.send(msg)).await {
        Ok(Ok(_)) => {
            tracing::info!(template = mail.template, request = request_id, "email sent");
            Ok(Outcome::Sent)
        }
        Ok(Err(e)) => Err(MailError::Smtp(e.to_string())),
        Err(_) => Err(MailError::Smtp("timed out".into())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_and_urls() {
        assert!(parse_address("a@example.org").is_some());
        for bad in [
            "a@example.org\r\nBcc: x@y.z",
            "A <a@example.org>",
            "a b@example.org",
            "nope",
            "",
        ] {
            assert!(parse_address(bad).is_none(), "{bad:?}");
        }
        assert_eq!(
            transport_url("smtp://h:25"),
            "smtp://h:25?tls=opportunistic"
        );
        assert_eq!(
            transport_url("smtp://h:25?tls=required"),
            "smtp://h:25?tls=required"
        );
        assert_eq!(transport_url("smtps://u:p@h"), "smtps://u:p@h");
    }

    #[test]
    fn message_is_plain_text() {
        let m = Mail {
            to: "a@example.org".into(),
            subject: "Votre demande".into(),
            body: "<b>Zoé</b>\nligne 2".into(),
            template: "t",
        };
        let msg = build_message("Assent <no-reply@example.org>", &m, 0).unwrap();
        let text = String::from_utf8(msg.formatted()).unwrap();
        assert!(
            text.contains("Content-Type: text/plain; charset=utf-8"),
            "{text}"
        );
        assert!(text.contains("Content-Transfer-Encoding: base64"), "{text}");
        assert!(!text.contains("<b>"), "{text}");
        assert!(text.contains("To: a@example.org"), "{text}");
    }
}
