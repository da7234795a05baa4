//! From the crate's JSON rendering of one record to our flat record, walking the
//! [`json_pull`](crate::collect::json_pull) reader, keeping only what the record needs.
//!
//! The crate's JSON has one object per element: attributes under `#attributes`, text
//! under `#text` (or the element is the bare value when it has neither attributes nor
//! children), children by name (`Name_1`, `Name_2` for repeats); `EventData`'s named
//! `Data` elements are keyed by their `Name`, unnamed ones gathered as
//! `"Data": {"#text": [...]}`.
//!
//! Field values are the text an analyst expects in a cell: strings as they are,
//! numbers and booleans as JSON writes them, arrays joined with `,`, an element's text
//! when it has some, and an element that only has children as the compact JSON of
//! those children, its children's attributes as `Name_attributes` members beside
//! them. An element with attributes and nothing else has no value; as a field of its
//! own (a child of `UserData`'s element, like CAPI2's `<EventAuxInfo
//! ProcessName="…"/>`) it gives one field per attribute, `Element_Attribute`.

use std::borrow::Cow;

use super::Parsed;
use crate::collect::json_pull::{Error, Pull, Value};
use crate::output::json::push_str as push_json_str;

/// Reads the record's root object (`{"Event": {...}}`, or the `Event` object itself)
/// from `p`, whose first value `start` is.
pub(super) fn event<'a>(
    p: &mut Pull<'a>,
    start: Value<'a>,
    parsed: &mut Parsed,
) -> Result<(), Error> {
    if start != Value::Object {
        return p.fail("the event is not an object");
    }
    p.members(|p, key, value| {
        match &*key {
            "Event" => event(p, value, parsed)?,
            "System" => system(p, value, parsed)?,
            "#attributes" | "RenderingInfo" => p.skip(value)?,
            "EventData" => {
                let mut fields = Vec::new();
                if fields_of(p, value, &mut fields)? && parsed.event_data.is_none() {
                    parsed.event_data = Some(fields);
                }
            }
            "UserData" => {
                let fields = user_data(p, value)?;
                if parsed.user_data.is_none() {
                    parsed.user_data = fields;
                }
            }
            // ProcessingErrorData, DebugData, BinaryEventData, ...
            _ => {
                fields_of(p, value, &mut parsed.other)?;
            }
        }
        Ok(())
    })
}

/// The `System` element: the facts every analysis needs.
fn system<'a>(p: &mut Pull<'a>, start: Value<'a>, parsed: &mut Parsed) -> Result<(), Error> {
    match start {
        Value::Object => {}
        Value::Null => return Ok(()),
        _ => return p.fail("System is not an element"),
    }
    let r = &mut parsed.record;
    p.members(|p, key, value| {
        // Most of these are bare scalars: their text without building a `Text`.
        let text = |p: &mut Pull<'a>, value| match value {
            Value::Array | Value::Object => text_of(p, value, &[]).map(|t| t.text),
            scalar => Ok(scalar_text(scalar)),
        };
        match &*key {
            "Provider" => {
                let [name, source] = text_of(p, value, &["Name", "EventSourceName"])?.attrs;
                r.provider = name.unwrap_or_default();
                r.event_source = source.unwrap_or_default();
            }
            "EventID" => parsed.event_id = text(p, value)?,
            "Level" => r.level = text(p, value)?.unwrap_or_default(),
            "Channel" => r.channel = text(p, value)?.unwrap_or_default(),
            "Computer" => r.computer = text(p, value)?.unwrap_or_default(),
            "Security" => {
                let [sid, _] = text_of(p, value, &["UserID"])?.attrs;
                r.user_sid = sid.unwrap_or_default();
            }
            "TimeCreated" => {
                let [time, _] = text_of(p, value, &["SystemTime"])?.attrs;
                parsed.time = time;
            }
            "EventRecordID" => parsed.record_id = text(p, value)?,
            _ => p.skip(value)?,
        }
        Ok(())
    })
}

/// A number as `serde_json` writes the value it reads: integers as they are,
/// everything else through `f64`.
fn number_text(raw: &str) -> String {
    // The reader let through no leading zeros: a run of digits that fits is written
    // back as it is.
    if raw.bytes().all(|b| b.is_ascii_digit()) && raw.parse::<u64>().is_ok() {
        return raw.to_owned();
    }
    if let Ok(n) = raw.parse::<i64>() {
        return n.to_string();
    }
    raw.parse::<f64>()
        .ok()
        .and_then(serde_json::Number::from_f64)
        .map_or_else(|| "null".into(), |n| n.to_string())
}

/// The text of a scalar; `None` for the start of a container.
fn scalar_text(value: Value<'_>) -> Option<String> {
    match value {
        Value::Null => Some(String::new()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Number(n) => Some(number_text(n)),
        Value::String(s) => Some(s.into_owned()),
        Value::Array | Value::Object => None,
    }
}

/// A container whose children are fields (`EventData`, `UserData`'s element,
/// `ProcessingErrorData`, ...): appends them to `out`; false when it has attributes
/// only (no value at all).
fn fields_of<'a>(
    p: &mut Pull<'a>,
    start: Value<'a>,
    out: &mut Vec<(String, String)>,
) -> Result<bool, Error> {
    match start {
        Value::Null => return Ok(true),
        Value::Object => {}
        value => {
            let text = text_of(p, value, &[])?.text.unwrap_or_default();
            out.push(("Data".into(), text));
            return Ok(true);
        }
    }
    let at = out.len();
    let (mut attributes, mut any_member, mut only_text) = (false, false, true);
    p.members(|p, key, value| {
        if key == "#attributes" {
            attributes = true;
            p.skip(value)?;
            return Ok(());
        }
        any_member = true;
        only_text &= key == "#text";
        let value = text_of(p, value, &[])?;
        match (value.items, value.text) {
            // Unnamed `Data` elements: `Data`, `Data_2`, ... in order.
            (Some(items), _) if key == "Data" => {
                for (i, item) in items.into_iter().enumerate() {
                    let name = if i == 0 {
                        "Data".to_string()
                    } else {
                        format!("Data_{}", i + 1)
                    };
                    out.push((name, item));
                }
            }
            (_, Some(text)) => out.push((key.into_owned(), text)),
            // An element of attributes alone: each is a field `Element_Name`.
            (_, None) => {
                for (name, text) in value.only_attributes {
                    out.push((format!("{key}_{name}"), text));
                }
            }
        }
        Ok(())
    })?;
    if any_member && only_text {
        // An element with attributes and text only: the text is its value.
        if let Some(field) = out.get_mut(at) {
            field.0 = "Data".into();
        }
    }
    Ok(any_member || !attributes)
}

/// `UserData`: the fields of its first element that has a value; `None` when it has
/// attributes only (as if there were no `UserData`).
fn user_data<'a>(
    p: &mut Pull<'a>,
    start: Value<'a>,
) -> Result<Option<Vec<(String, String)>>, Error> {
    if start != Value::Object {
        // Anything but an element with children: UserData without fields.
        p.skip(start)?;
        return Ok(Some(Vec::new()));
    }
    let mut fields = Vec::new();
    let (mut found, mut any_member) = (false, false);
    p.members(|p, key, value| {
        if found || key == "#attributes" {
            p.skip(value)?;
            return Ok(());
        }
        any_member = true;
        found = fields_of(p, value, &mut fields)?;
        Ok(())
    })?;
    Ok(any_member.then_some(fields))
}

/// A value's text, and the attributes asked for.
#[derive(Default)]
struct Text {
    /// `None`: an element with attributes and nothing else.
    text: Option<String>,
    /// The items of an element whose `#text` is an array (unnamed `Data` elements).
    items: Option<Vec<String>>,
    /// The attributes asked for, in the order asked.
    attrs: [Option<String>; 2],
    /// Every attribute, in order, when none were asked for and the element has
    /// nothing else (`<EventAuxInfo ProcessName="mimikatz.exe"/>`): their values are
    /// the element's whole content.
    only_attributes: Vec<(String, String)>,
}

/// The text of a value; with attribute names (at most two), those attributes too.
fn text_of<'a>(p: &mut Pull<'a>, start: Value<'a>, want: &[&str]) -> Result<Text, Error> {
    match start {
        Value::Object => {}
        Value::Array => {
            let (mut items, mut first) = (Vec::new(), true);
            while p.item(&mut first)? {
                let value = p.value()?;
                items.push(text_of(p, value, &[])?.text.unwrap_or_default());
            }
            return Ok(Text {
                text: Some(items.join(",")),
                items: Some(items),
                ..Text::default()
            });
        }
        scalar => {
            return Ok(Text {
                text: scalar_text(scalar),
                ..Text::default()
            })
        }
    }
    let mut out = Text::default();
    let mut attributes = false;
    let mut own_text = None;
    let mut children = String::new();
    p.members(|p, key, value| {
        match &*key {
            "#attributes" => {
                attributes = true;
                if want.is_empty() {
                    all_attributes(p, value, &mut out.only_attributes)?;
                } else {
                    wanted_attributes(p, value, want, &mut out.attrs)?;
                }
            }
            "#text" => {
                let value = text_of(p, value, &[])?;
                out.items = value.items;
                own_text = Some(value.text.unwrap_or_default());
            }
            name => separate_member(p, name, value, &mut children)?,
        }
        Ok(())
    })?;
    out.text = match own_text {
        Some(text) => Some(text),
        None if !children.is_empty() => Some(format!("{{{children}}}")),
        None if attributes => None,
        None => Some("{}".into()),
    };
    if out.text.is_some() {
        out.only_attributes.clear();
    }
    Ok(out)
}

/// Reads the members of an `#attributes` value (`null` has none), handing each
/// key and value start to `each`.
fn attributes<'a>(
    p: &mut Pull<'a>,
    start: Value<'a>,
    each: impl FnMut(&mut Pull<'a>, Cow<'a, str>, Value<'a>) -> Result<(), Error>,
) -> Result<(), Error> {
    match start {
        Value::Object => {}
        Value::Null => return Ok(()),
        _ => return p.fail("#attributes is not an object"),
    }
    p.members(each)
}

/// Every attribute of an `#attributes` object, as text, in order.
fn all_attributes<'a>(
    p: &mut Pull<'a>,
    start: Value<'a>,
    out: &mut Vec<(String, String)>,
) -> Result<(), Error> {
    attributes(p, start, |p, key, value| {
        let value = text_of(p, value, &[])?.text.unwrap_or_default();
        out.push((key.into_owned(), value));
        Ok(())
    })
}

/// Picks the attributes named in `want` (at most two) out of an `#attributes` object.
fn wanted_attributes<'a>(
    p: &mut Pull<'a>,
    start: Value<'a>,
    want: &[&str],
    out: &mut [Option<String>; 2],
) -> Result<(), Error> {
    attributes(p, start, |p, key, value| {
        match want.iter().position(|w| *w == key).filter(|&at| at < 2) {
            Some(at) => out[at] = text_of(p, value, &[])?.text,
            None => p.skip(value)?,
        }
        Ok(())
    })
}

/// Starts a member `"name":` of an object being written.
fn member_key(out: &mut String, name: &str) {
    if !out.is_empty() {
        out.push(',');
    }
    push_json_str(out, name);
    out.push(':');
}

/// Writes one child element as a member of its parent's compact JSON, with its
/// attributes as a `Name_attributes` member before it (and no `Name` member when it
/// has attributes and nothing else).
fn separate_member<'a>(
    p: &mut Pull<'a>,
    name: &str,
    start: Value<'a>,
    out: &mut String,
) -> Result<(), Error> {
    if start != Value::Object {
        member_key(out, name);
        return compact(p, start, out);
    }
    let (mut attributes, mut own_text) = (None, None);
    let mut children = String::new();
    p.members(|p, key, value| {
        match &*key {
            "#attributes" => {
                let mut json = String::new();
                compact(p, value, &mut json)?;
                attributes = Some(json);
            }
            "#text" => {
                let mut json = String::new();
                compact(p, value, &mut json)?;
                own_text = Some(json);
            }
            child => separate_member(p, child, value, &mut children)?,
        }
        Ok(())
    })?;
    if let Some(json) = &attributes {
        member_key(out, &format!("{name}_attributes"));
        out.push_str(json);
    }
    match (own_text, children.is_empty()) {
        (Some(text), true) => {
            member_key(out, name);
            out.push_str(&text);
        }
        (None, true) if attributes.is_some() => {}
        (own_text, _) => {
            member_key(out, name);
            out.push('{');
            if let Some(text) = own_text {
                out.push_str("\"#text\":");
                out.push_str(&text);
                if !children.is_empty() {
                    out.push(',');
                }
            }
            out.push_str(&children);
            out.push('}');
        }
    }
    Ok(())
}

/// Re-writes a value as compact JSON (as `serde_json::Value`'s `to_string` would).
fn compact<'a>(p: &mut Pull<'a>, start: Value<'a>, out: &mut String) -> Result<(), Error> {
    match start {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(&number_text(n)),
        Value::String(s) => push_json_str(out, &s),
        Value::Array => {
            out.push('[');
            let (mut first, mut written) = (true, false);
            while p.item(&mut first)? {
                if std::mem::replace(&mut written, true) {
                    out.push(',');
                }
                let value = p.value()?;
                compact(p, value, out)?;
            }
            out.push(']');
        }
        Value::Object => {
            out.push('{');
            let (mut first, mut written) = (true, false);
            while let Some(key) = p.member(&mut first)? {
                if std::mem::replace(&mut written, true) {
                    out.push(',');
                }
                push_json_str(out, &key);
                out.push(':');
                let value = p.value()?;
                compact(p, value, out)?;
            }
            out.push('}');
        }
    }
    Ok(())
}
