//! A page (tab) attached through a flattened session.

use std::time::Duration;

use base64::Engine as _;
use serde_json::{Value, json};

use crate::connection::EventStream;
use crate::cookie::{Cookie, get_cookies};
use crate::error::{CdpError, Result};
use crate::session::Session;

/// Where a navigation committed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Navigation {
    /// The main frame id.
    pub frame_id: String,
    /// The loader id; `None` for a same-document navigation (e.g. a `#fragment`).
    pub loader_id: Option<String>,
}

/// Modifier keys for [`Page::press_key_with`] (protocol bit mask).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Modifiers(pub u8);

impl Modifiers {
    /// No modifier.
    pub const NONE: Modifiers = Modifiers(0);
    /// Alt.
    pub const ALT: Modifiers = Modifiers(1);
    /// Control.
    pub const CTRL: Modifiers = Modifiers(2);
    /// Meta / Command.
    pub const META: Modifiers = Modifiers(4);
    /// Shift.
    pub const SHIFT: Modifiers = Modifiers(8);
}

/// (key, code, windowsVirtualKeyCode, text) for the named keys we support.
fn key_definition(key: &str) -> Option<(&'static str, &'static str, i64, Option<&'static str>)> {
    Some(match key {
        "Tab" => ("Tab", "Tab", 9, None),
        "Enter" => ("Enter", "Enter", 13, Some("\r")),
        "Space" | " " => (" ", "Space", 32, Some(" ")),
        "Escape" | "Esc" => ("Escape", "Escape", 27, None),
        "Backspace" => ("Backspace", "Backspace", 8, None),
        "ArrowLeft" => ("ArrowLeft", "ArrowLeft", 37, None),
        "ArrowUp" => ("ArrowUp", "ArrowUp", 38, None),
        "ArrowRight" => ("ArrowRight", "ArrowRight", 39, None),
        "ArrowDown" => ("ArrowDown", "ArrowDown", 40, None),
        "Home" => ("Home", "Home", 36, None),
        "End" => ("End", "End", 35, None),
        _ => return None,
    })
}

/// A tab, attached through its own flattened session.
///
/// Every method is a thin layer over one or two protocol commands; use [`Page::call`] for
/// anything else.
#[derive(Debug, Clone)]
pub struct Page {
    session: Session,
    browser: Session,
    target_id: String,
    context_id: Option<String>,
    navigation_timeout: Duration,
}

impl Page {
    pub(crate) async fn create(
        browser: Session,
        context_id: Option<String>,
        navigation_timeout: Duration,
    ) -> Result<Page> {
        let mut params = json!({ "url": "about:blank" });
        if let Some(id) = &context_id {
            params["browserContextId"] = json!(id);
        }
        let v = browser.call("Target.createTarget", params).await?;
        let target_id = str_field(&v, "targetId", "Target.createTarget")?;
        let v = browser
            .call(
                "Target.attachToTarget",
                json!({ "targetId": target_id, "flatten": true }),
            )
            .await?;
        let session_id = str_field(&v, "sessionId", "Target.attachToTarget")?;
        let session = browser.with_id(session_id);
        session.call("Page.enable", json!({})).await?;
        session
            .call("Page.setLifecycleEventsEnabled", json!({ "enabled": true }))
            .await?;
        Ok(Page {
            session,
            browser,
            target_id,
            context_id,
            navigation_timeout,
        })
    }

    /// The page's flattened session (for raw commands and events).
    pub fn session(&self) -> &Session {
        &self.session
    }

    /// The page's session id.
    pub fn session_id(&self) -> &str {
        self.session.id().unwrap_or_default()
    }

    /// The page's target id.
    pub fn target_id(&self) -> &str {
        &self.target_id
    }

    /// The browser context the page lives in (`None`: the default context).
    pub fn context_id(&self) -> Option<&str> {
        self.context_id.as_deref()
    }

    /// Sends a command on the page's session, with the default timeout (another timeout:
    /// [`Session::call_with_timeout`] on [`Page::session`]).
    pub async fn call(&self, method: &str, params: Value) -> Result<Value> {
        self.session.call(method, params).await
    }

    /// Events of this page's session (`Page.*`, `Network.*` once enabled, `Runtime.*`...).
    /// Subscribe before triggering what you wait for.
    pub fn events(&self) -> EventStream {
        self.session.events()
    }

    /// `Network.enable`: network events start flowing to [`Page::events`].
    pub async fn enable_network(&self) -> Result<()> {
        self.call("Network.enable", json!({})).await.map(|_| ())
    }

    /// Navigates and waits for the main frame's load event (bounded by the navigation timeout).
    pub async fn navigate(&self, url: &str) -> Result<Navigation> {
        self.navigate_with_timeout(url, self.navigation_timeout)
            .await
    }

    /// Like [`Page::navigate`] with an explicit timeout.
    pub async fn navigate_with_timeout(&self, url: &str, timeout: Duration) -> Result<Navigation> {
        let mut events = self.events();
        let v = self
            .session
            .call_with_timeout("Page.navigate", json!({ "url": url }), timeout)
            .await?;
        if let Some(err) = v.get("errorText").and_then(Value::as_str)
            && !err.is_empty()
        {
            return Err(CdpError::Navigation {
                url: url.to_owned(),
                error: err.to_owned(),
            });
        }
        let frame_id = str_field(&v, "frameId", "Page.navigate")?;
        let loader_id = v.get("loaderId").and_then(Value::as_str).map(str::to_owned);
        if let Some(loader) = &loader_id {
            events
                .wait_for("the load event", timeout, |ev| {
                    ev.method == "Page.lifecycleEvent"
                        && ev.params.get("name").and_then(Value::as_str) == Some("load")
                        && ev.params.get("loaderId").and_then(Value::as_str)
                            == Some(loader.as_str())
                })
                .await?;
        }
        Ok(Navigation {
            frame_id,
            loader_id,
        })
    }

    /// Reloads and waits for the load event.
    pub async fn reload(&self) -> Result<()> {
        let mut events = self.events();
        self.call("Page.reload", json!({})).await?;
        events
            .wait_for("the load event", self.navigation_timeout, |ev| {
                ev.method == "Page.loadEventFired"
            })
            .await
            .map(|_| ())
    }

    /// Evaluates `expression` in the main frame, awaiting a returned promise, and returns the
    /// result by value (`Null` for `undefined`). A thrown exception becomes
    /// [`CdpError::JavaScript`].
    pub async fn evaluate(&self, expression: &str) -> Result<Value> {
        self.evaluate_with_timeout(expression, self.session.conn.default_timeout())
            .await
    }

    /// Like [`Page::evaluate`] with an explicit timeout.
    pub async fn evaluate_with_timeout(
        &self,
        expression: &str,
        timeout: Duration,
    ) -> Result<Value> {
        let v = self
            .session
            .call_with_timeout(
                "Runtime.evaluate",
                json!({
                    "expression": expression,
                    "returnByValue": true,
                    "awaitPromise": true,
                }),
                timeout,
            )
            .await?;
        evaluation_result(v)
    }

    /// Adds a script run in every new document of this page before the page's own scripts
    /// (`Page.addScriptToEvaluateOnNewDocument`). Returns its identifier.
    pub async fn add_init_script(&self, source: &str) -> Result<String> {
        let v = self
            .call(
                "Page.addScriptToEvaluateOnNewDocument",
                json!({ "source": source }),
            )
            .await?;
        str_field(&v, "identifier", "Page.addScriptToEvaluateOnNewDocument")
    }

    /// All cookies of the page's browser context, HttpOnly and third-party included
    /// (`Storage.getCookies`).
    pub async fn cookies(&self) -> Result<Vec<Cookie>> {
        get_cookies(&self.browser, self.context_id.as_deref()).await
    }

    /// Sets the viewport (CSS pixels, scale 1, desktop).
    pub async fn set_viewport(&self, width: u32, height: u32) -> Result<()> {
        self.call(
            "Emulation.setDeviceMetricsOverride",
            json!({ "width": width, "height": height, "deviceScaleFactor": 1, "mobile": false }),
        )
        .await
        .map(|_| ())
    }

    /// A PNG of the viewport.
    pub async fn screenshot_png(&self) -> Result<Vec<u8>> {
        let v = self
            .call("Page.captureScreenshot", json!({ "format": "png" }))
            .await?;
        decode_data(&v)
    }

    /// A PNG of the whole page, beyond the viewport.
    pub async fn screenshot_png_full_page(&self) -> Result<Vec<u8>> {
        let m = self.call("Page.getLayoutMetrics", json!({})).await?;
        let size = m.get("cssContentSize").or_else(|| m.get("contentSize"));
        let width = size
            .and_then(|s| s.get("width"))
            .and_then(Value::as_f64)
            .unwrap_or(1280.0);
        let height = size
            .and_then(|s| s.get("height"))
            .and_then(Value::as_f64)
            .unwrap_or(800.0);
        let v = self
            .call(
                "Page.captureScreenshot",
                json!({
                    "format": "png",
                    "captureBeyondViewport": true,
                    "clip": { "x": 0, "y": 0, "width": width.ceil(), "height": height.ceil(), "scale": 1 },
                }),
            )
            .await?;
        decode_data(&v)
    }

    /// Clicks the first element matching `selector` with `element.click()` (works for hidden or
    /// covered elements; the event is not `isTrusted`). See [`Page::click_real`].
    pub async fn click(&self, selector: &str) -> Result<()> {
        let sel = js_string(selector);
        let found = self
            .evaluate(&format!(
                "(() => {{ const el = document.querySelector({sel}); if (!el) return false; el.click(); return true; }})()"
            ))
            .await?;
        if found == Value::Bool(true) {
            Ok(())
        } else {
            Err(CdpError::ElementNotFound(selector.to_owned()))
        }
    }

    /// Clicks like a user: scrolls the element into view and dispatches a real left-button
    /// press and release at the centre of its box (`Input.dispatchMouseEvent`). Whatever is on
    /// top at that point receives the click.
    pub async fn click_real(&self, selector: &str) -> Result<()> {
        let sel = js_string(selector);
        let v = self
            .evaluate(&format!(
                "(() => {{ const el = document.querySelector({sel}); if (!el) return null; \
                 el.scrollIntoView({{block: 'center', inline: 'center'}}); \
                 const r = el.getBoundingClientRect(); \
                 if (r.width === 0 && r.height === 0) return null; \
                 return {{x: r.left + r.width / 2, y: r.top + r.height / 2}}; }})()"
            ))
            .await?;
        let (Some(x), Some(y)) = (
            v.get("x").and_then(Value::as_f64),
            v.get("y").and_then(Value::as_f64),
        ) else {
            return Err(CdpError::ElementNotFound(selector.to_owned()));
        };
        self.mouse_click_at(x, y).await
    }

    /// A left click at viewport coordinates.
    pub async fn mouse_click_at(&self, x: f64, y: f64) -> Result<()> {
        self.call(
            "Input.dispatchMouseEvent",
            json!({ "type": "mouseMoved", "x": x, "y": y }),
        )
        .await?;
        self.call(
            "Input.dispatchMouseEvent",
            json!({ "type": "mousePressed", "x": x, "y": y, "button": "left", "buttons": 1, "clickCount": 1 }),
        )
        .await?;
        self.call(
            "Input.dispatchMouseEvent",
            json!({ "type": "mouseReleased", "x": x, "y": y, "button": "left", "buttons": 0, "clickCount": 1 }),
        )
        .await
        .map(|_| ())
    }

    /// Presses and releases a key: `Tab`, `Enter`, `Space`, `Escape`, `Backspace`, the arrows,
    /// `Home`, `End`, or a single printable character.
    pub async fn press_key(&self, key: &str) -> Result<()> {
        self.press_key_with(key, Modifiers::NONE).await
    }

    /// Like [`Page::press_key`] with modifiers held (e.g. `Shift+Tab`).
    pub async fn press_key_with(&self, key: &str, modifiers: Modifiers) -> Result<()> {
        let owned;
        let (key, code, vk, text): (&str, &str, i64, Option<&str>) =
            if let Some((k, c, vk, t)) = key_definition(key) {
                (k, c, vk, t)
            } else {
                let mut chars = key.chars();
                match (chars.next(), chars.next()) {
                    (Some(ch), None) => {
                        owned = ch.to_string();
                        let vk = if ch.is_ascii_alphanumeric() {
                            i64::from(ch.to_ascii_uppercase() as u8)
                        } else {
                            0
                        };
                        (owned.as_str(), "", vk, Some(owned.as_str()))
                    }
                    _ => return Err(CdpError::UnknownKey(key.to_owned())),
                }
            };
        let mut down = json!({
            "type": if text.is_some() { "keyDown" } else { "rawKeyDown" },
            "key": key,
            "code": code,
            "windowsVirtualKeyCode": vk,
            "nativeVirtualKeyCode": vk,
            "modifiers": modifiers.0,
        });
        if let Some(t) = text {
            down["text"] = json!(t);
            down["unmodifiedText"] = json!(t);
        }
        self.call("Input.dispatchKeyEvent", down).await?;
        self.call(
            "Input.dispatchKeyEvent",
            json!({
                "type": "keyUp",
                "key": key,
                "code": code,
                "windowsVirtualKeyCode": vk,
                "nativeVirtualKeyCode": vk,
                "modifiers": modifiers.0,
            }),
        )
        .await
        .map(|_| ())
    }

    /// Types text into the focused element (`Input.insertText`).
    pub async fn type_text(&self, text: &str) -> Result<()> {
        self.call("Input.insertText", json!({ "text": text }))
            .await
            .map(|_| ())
    }

    /// Waits until an element matches `selector` (polled in the page). Returns `false` if none
    /// appeared within `timeout`.
    pub async fn wait_for_selector(&self, selector: &str, timeout: Duration) -> Result<bool> {
        let sel = js_string(selector);
        let ms = timeout.as_millis();
        let v = self
            .evaluate_with_timeout(
                &format!(
                    "new Promise((resolve) => {{ const end = performance.now() + {ms}; \
                     const check = () => {{ if (document.querySelector({sel})) return resolve(true); \
                     if (performance.now() > end) return resolve(false); setTimeout(check, 25); }}; \
                     check(); }})"
                ),
                timeout + Duration::from_secs(5),
            )
            .await?;
        Ok(v == Value::Bool(true))
    }

    /// The current URL of the main frame.
    pub async fn url(&self) -> Result<String> {
        let v = self.evaluate("location.href").await?;
        Ok(v.as_str().unwrap_or_default().to_owned())
    }

    /// The serialized DOM (`document.documentElement.outerHTML`).
    pub async fn content(&self) -> Result<String> {
        let v = self
            .evaluate("document.documentElement ? document.documentElement.outerHTML : ''")
            .await?;
        Ok(v.as_str().unwrap_or_default().to_owned())
    }

    /// Closes the tab.
    pub async fn close(self) -> Result<()> {
        self.browser
            .call("Target.closeTarget", json!({ "targetId": self.target_id }))
            .await
            .map(|_| ())
    }
}

/// A Rust string as a JavaScript string literal.
pub fn js_string(s: &str) -> String {
    // JSON string syntax is valid JavaScript (U+2028/2029 are legal in ES2019+ literals).
    serde_json::to_string(s).unwrap_or_else(|_| "\"\"".to_owned())
}

/// Extracts the value (or the exception) of a `Runtime.evaluate`/`callFunctionOn` answer.
pub fn evaluation_result(v: Value) -> Result<Value> {
    if let Some(ex) = v.get("exceptionDetails") {
        let text = ex
            .get("exception")
            .and_then(|e| e.get("description"))
            .and_then(Value::as_str)
            .or_else(|| ex.get("text").and_then(Value::as_str))
            .unwrap_or("unknown exception");
        return Err(CdpError::JavaScript(text.to_owned()));
    }
    Ok(v.get("result")
        .and_then(|r| r.get("value"))
        .cloned()
        .unwrap_or(Value::Null))
}

fn str_field(v: &Value, field: &str, method: &str) -> Result<String> {
    v.get(field)
        .and_then(Value::as_str)
        .map(str::to_owned)
        .ok_or_else(|| CdpError::UnexpectedResponse {
            method: method.to_owned(),
            detail: format!("no `{field}` in {v}"),
        })
}

fn decode_data(v: &Value) -> Result<Vec<u8>> {
    let data =
        v.get("data")
            .and_then(Value::as_str)
            .ok_or_else(|| CdpError::UnexpectedResponse {
                method: "Page.captureScreenshot".into(),
                detail: "no `data`".into(),
            })?;
    Ok(base64::engine::general_purpose::STANDARD.decode(data)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn evaluation_results() {
        assert_eq!(
            evaluation_result(json!({"result": {"type": "number", "value": 3}})).unwrap(),
            json!(3)
        );
        assert_eq!(
            evaluation_result(json!({"result": {"type": "undefined"}})).unwrap(),
            Value::Null
        );
        let e = evaluation_result(
            json!({"result": {}, "exceptionDetails": {"text": "Uncaught", "exception": {"description": "Error: boom"}}}),
        );
        assert!(matches!(e, Err(CdpError::JavaScript(m)) if m == "Error: boom"));
    }

    #[test]
    fn js_strings_are_escaped() {
        assert_eq!(js_string("a\"b</script>"), "\"a\\\"b</script>\"");
    }
}
