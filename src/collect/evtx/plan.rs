//! The fast path: a record's substitution values mapped straight to our fields,
//! without the crate's JSON rendering and our reading of it.
//!
//! A template definition (read by [`template`]) is compiled once
//! per chunk into a [`Plan`]: which value, or which static text, each System fact and
//! each field takes. A plan exists only for the simple common shapes whose JSON
//! rendering we can prove: `Event` holding one `System` and at most one of
//! `EventData` or `UserData`, the System facts as single text or single
//! substitutions; `EventData` holding `Data` elements, all named (distinct, static,
//! non-empty names) or all unnamed, then leaf elements such as `Binary`; `UserData`
//! holding one element of leaf children. Most logs of Windows 10 give `EventData`
//! (or `UserData`) as the last value of the event's template, nested BinXML holding
//! one instance of a template whose root it is (see [`instance`](super::instance)):
//! the event's plan then says which value that is, and the nested template's own
//! plan gives the fields. Applying a plan fails (and the record takes the JSON
//! path) when nested BinXML is anywhere else, when an element we read has a NULL
//! dependency (the crate leaves it out), when a fact is empty where the rendering
//! would drop it, or when a value has no text here (arrays, handles).
//!
//! Value text is what the JSON path ends up with (see [`value`](super::value)); an
//! empty value gives "".

use super::instance::{Raw, Values, BINXML};
use super::template::{self, Element, Node, Template};
use super::value::NULL;
use super::Parsed;

/// Where a text comes from.
#[derive(Clone, Debug, PartialEq)]
enum Source {
    /// Static text of the definition (possibly empty).
    Text(String),
    /// The record's value at this index.
    Slot(u16),
}

/// An element's text as the flattening reads it.
#[derive(Clone, Debug, PartialEq)]
struct ElementText {
    source: Source,
    /// Whether the element has attributes: then its empty text is no text at all
    /// in the rendering, which the plan does not follow.
    attributes: bool,
}

/// Which element's fields a [`DataPlan`] gives.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Container {
    /// `EventData`: named `Data`, or positional `Data`, `Data_2`, ..., then other
    /// leaf elements such as `Binary`.
    EventData,
    /// `UserData`, holding one element of leaf children.
    UserData,
    /// The one element of a `UserData` whose content is nested BinXML: the root of
    /// the nested template, its leaf children the fields.
    UserDataElement,
}

/// The fields of `EventData` or `UserData`.
#[derive(Clone, Debug, PartialEq)]
pub struct DataPlan {
    container: Container,
    fields: Vec<(String, Source)>,
    /// Dependencies of the elements read: a NULL value there leaves one out.
    guards: Vec<u16>,
}

/// The fields a [`DataPlan`] gives a record.
pub struct DataFields {
    container: Container,
    fields: Vec<(String, String)>,
}

impl DataFields {
    /// Puts the fields where the flattening would.
    fn into(self, parsed: &mut Parsed) {
        if self.container == Container::EventData {
            parsed.event_data = Some(self.fields);
        } else {
            parsed.user_data = Some(self.fields);
        }
    }
}

/// Where the event's fields come from.
#[derive(Clone, Debug, PartialEq)]
enum Fields {
    /// Neither `EventData` nor `UserData`.
    None,
    /// `EventData` or `UserData` in the template itself.
    Data(DataPlan),
    /// A value of nested BinXML holding `EventData` or `UserData` (or, `within` a
    /// `UserData` of the template, that one's element); an optional substitution
    /// whose value is NULL gives none (outside `UserData`).
    Nested {
        slot: u16,
        optional: bool,
        within: Option<Container>,
    },
}

/// The plan of a template: of an event, or of the `EventData` or `UserData` nested
/// in one.
#[derive(Clone, Debug, PartialEq)]
pub enum Plan {
    /// A template whose root is `Event`.
    Event(Box<EventPlan>),
    /// A template whose root is `EventData`, `UserData` or the element of one (nested
    /// in an event's values).
    Data(DataPlan),
}

impl Plan {
    /// Compiles a definition; `None` when it is not one of the simple shapes.
    pub fn compile(template: &Template) -> Option<Plan> {
        let root = template.elements.first()?;
        match root.name.as_str() {
            "Event" => EventPlan::compile(template).map(|plan| Plan::Event(Box::new(plan))),
            "EventData" | "UserData" => DataPlan::compile(template, root).map(Plan::Data),
            _ => DataPlan::user_data_element(template, root).map(Plan::Data),
        }
    }
}

/// What a record of one event template gives, value by value.
#[derive(Clone, Debug, PartialEq)]
pub struct EventPlan {
    provider: Option<Source>,
    event_source: Option<Source>,
    event_id: Option<ElementText>,
    level: Option<ElementText>,
    channel: Option<ElementText>,
    computer: Option<ElementText>,
    user_sid: Option<Source>,
    time: Option<Source>,
    record_id: Option<ElementText>,
    fields: Fields,
    /// Dependencies of the elements read: a NULL value there leaves one out.
    guards: Vec<u16>,
}

/// The System children the flattening reads.
const KNOWN: [&str; 8] = [
    "Provider",
    "EventID",
    "Level",
    "Channel",
    "Computer",
    "Security",
    "TimeCreated",
    "EventRecordID",
];

impl EventPlan {
    /// Compiles a definition whose root is `Event`; `None` when it is not the simple
    /// shape.
    fn compile(template: &Template) -> Option<EventPlan> {
        let root = template.elements.first()?;
        let (mut system, mut fields) = (None, Fields::None);
        // The dependency of a `UserData` holding nested BinXML.
        let mut holder = None;
        for child in &root.children {
            if let Node::Substitution { index, optional } = *child {
                if fields != Fields::None {
                    return None;
                }
                fields = Fields::Nested {
                    slot: index,
                    optional,
                    within: None,
                };
                continue;
            }
            let element = element_of(template, child)?;
            match (element.name.as_str(), element.children.as_slice()) {
                ("System", _) if system.is_none() => system = Some(element),
                // `<UserData>%n</UserData>`, the value nested BinXML of its element.
                ("UserData", [Node::Substitution { index, optional }])
                    if fields == Fields::None =>
                {
                    holder = element.dependency;
                    fields = Fields::Nested {
                        slot: *index,
                        optional: *optional,
                        within: Some(Container::UserData),
                    };
                }
                ("EventData" | "UserData", _) if fields == Fields::None => {
                    fields = Fields::Data(DataPlan::compile(template, element)?)
                }
                _ => return None,
            }
        }
        let system = system?;
        let mut plan = EventPlan {
            provider: None,
            event_source: None,
            event_id: None,
            level: None,
            channel: None,
            computer: None,
            user_sid: None,
            time: None,
            record_id: None,
            fields,
            guards: holder.into_iter().collect(),
        };
        plan.guard(system);
        let mut seen = [false; KNOWN.len()];
        for child in &system.children {
            let element = element_of(template, child)?;
            let Some(known) = KNOWN.iter().position(|k| *k == element.name) else {
                continue;
            };
            if std::mem::replace(&mut seen[known], true) {
                return None;
            }
            plan.guard(element);
            match KNOWN[known] {
                "Provider" => {
                    plan.provider = attribute(element, "Name")?;
                    plan.event_source = attribute(element, "EventSourceName")?;
                }
                "Security" => plan.user_sid = attribute(element, "UserID")?,
                "TimeCreated" => plan.time = attribute(element, "SystemTime")?,
                "EventID" => plan.event_id = Some(element_text(element)?),
                "Level" => plan.level = Some(element_text(element)?),
                "Channel" => plan.channel = Some(element_text(element)?),
                "Computer" => plan.computer = Some(element_text(element)?),
                _ => plan.record_id = Some(element_text(element)?),
            }
        }
        Some(plan)
    }

    /// Keeps the element's dependency, if it has one, to check on every record.
    fn guard(&mut self, element: &Element) {
        self.guards.extend(element.dependency);
    }

    /// The record's facts and fields from its values; `None` when the record is not
    /// one the plan covers (see the module docs). `nested` gives the fields of a
    /// nested BinXML value (the chunk's plans know its template).
    pub fn apply(
        &self,
        values: &Values<'_>,
        nested: &mut dyn FnMut(Raw) -> Option<DataFields>,
    ) -> Option<Parsed> {
        let payload = match self.fields {
            Fields::Nested { slot, .. } => Some(usize::from(slot)),
            _ => None,
        };
        // Nested BinXML anywhere else would be elements of the event's.
        let plain = |(i, raw): (usize, &Raw)| raw.ty != BINXML || Some(i) == payload;
        if !values.values.iter().enumerate().all(plain) || guarded(values, &self.guards) {
            return None;
        }
        let text = |source: &Source| source_text(values, source);
        // An attribute with no text is left out: as if it were not there.
        let attribute = |source: &Option<Source>| -> Option<Option<String>> {
            match source {
                None => Some(None),
                Some(source) => text(source).map(|t| (!t.is_empty()).then_some(t)),
            }
        };
        let element = |element: &Option<ElementText>| -> Option<Option<String>> {
            match element {
                None => Some(None),
                Some(ElementText { source, attributes }) => match text(source)? {
                    t if t.is_empty() && *attributes => None,
                    t => Some(Some(t)),
                },
            }
        };
        let mut parsed = Parsed::default();
        let r = &mut parsed.record;
        r.provider = attribute(&self.provider)?.unwrap_or_default();
        r.event_source = attribute(&self.event_source)?.unwrap_or_default();
        r.user_sid = attribute(&self.user_sid)?.unwrap_or_default();
        r.level = element(&self.level)?.unwrap_or_default();
        r.channel = element(&self.channel)?.unwrap_or_default();
        r.computer = element(&self.computer)?.unwrap_or_default();
        parsed.time = attribute(&self.time)?;
        parsed.event_id = element(&self.event_id)?;
        parsed.record_id = element(&self.record_id)?;
        let fields = match &self.fields {
            Fields::None => None,
            Fields::Data(data) => Some(data.apply(values)?),
            Fields::Nested {
                slot,
                optional,
                within,
            } => match values.get(*slot)? {
                raw if raw.ty == NULL && *optional && within.is_none() => None,
                raw if raw.ty == BINXML && raw.len > 0 => {
                    let fields = nested(raw)?;
                    // What the nested template's root is must fit where it goes.
                    let fits = match within {
                        Some(_) => fields.container == Container::UserDataElement,
                        None => fields.container != Container::UserDataElement,
                    };
                    if !fits {
                        return None;
                    }
                    Some(fields)
                }
                _ => return None,
            },
        };
        if let Some(fields) = fields {
            fields.into(&mut parsed);
        }
        Some(parsed)
    }
}

impl DataPlan {
    /// The plan of an `EventData` or `UserData` element.
    fn compile(template: &Template, container: &Element) -> Option<DataPlan> {
        let user_data = container.name == "UserData";
        let mut plan = DataPlan {
            container: if user_data {
                Container::UserData
            } else {
                Container::EventData
            },
            fields: Vec::new(),
            guards: container.dependency.into_iter().collect(),
        };
        if user_data {
            let [only] = container.children.as_slice() else {
                return None;
            };
            plan.element_fields(template, element_of(template, only)?)?;
        } else {
            plan.event_data_fields(template, container)?;
        }
        Some(plan)
    }

    /// The plan of a template whose root is the element of a `UserData`.
    fn user_data_element(template: &Template, root: &Element) -> Option<DataPlan> {
        let mut plan = DataPlan {
            container: Container::UserDataElement,
            fields: Vec::new(),
            guards: Vec::new(),
        };
        plan.element_fields(template, root)?;
        Some(plan)
    }

    /// `EventData`'s `Data` children, all named or all unnamed, then other leaf
    /// elements (`Binary`): the rendering writes positional `Data` together where the
    /// first is, so a `Data` after another element is not followed here.
    fn event_data_fields(&mut self, template: &Template, event_data: &Element) -> Option<()> {
        let (mut named, mut others) = (None, false);
        for child in &event_data.children {
            let element = element_of(template, child)?;
            if element.name != "Data" {
                others = true;
                self.leaf(element)?;
                continue;
            }
            let name = match element.attributes.as_slice() {
                [] => None,
                [(attribute, value)] if attribute == "Name" => match value.as_slice() {
                    [Node::Text(name)] if template::plain_name(name) => Some(name.clone()),
                    _ => return None,
                },
                _ => return None,
            };
            if others || *named.get_or_insert(name.is_some()) != name.is_some() {
                return None;
            }
            let name = name.unwrap_or_else(|| match self.fields.len() {
                0 => "Data".to_string(),
                n => format!("Data_{}", n + 1),
            });
            self.field(element, name)?;
        }
        Some(())
    }

    /// `UserData`'s one element, with leaf children only (its attributes are not
    /// fields).
    fn element_fields(&mut self, template: &Template, element: &Element) -> Option<()> {
        if container_name(&element.name) || element.children.is_empty() {
            return None;
        }
        self.guards.extend(element.dependency);
        for child in &element.children {
            self.leaf(element_of(template, child)?)?;
        }
        Some(())
    }

    /// A child element without attributes as the field of its name.
    fn leaf(&mut self, element: &Element) -> Option<()> {
        if !element.attributes.is_empty() || container_name(&element.name) {
            return None;
        }
        self.field(element, element.name.clone())
    }

    /// The element's content as the field `name`, which must be new.
    fn field(&mut self, element: &Element, name: String) -> Option<()> {
        if self.fields.iter().any(|(n, _)| *n == name) {
            return None;
        }
        self.guards.extend(element.dependency);
        self.fields.push((name, content(&element.children)?));
        Some(())
    }

    /// The fields from the values; `None` when a `Data` would be left out or a value
    /// is not one we render.
    pub fn apply(&self, values: &Values<'_>) -> Option<DataFields> {
        if guarded(values, &self.guards) {
            return None;
        }
        let mut fields = Vec::with_capacity(self.fields.len());
        for (name, source) in &self.fields {
            fields.push((name.clone(), source_text(values, source)?));
        }
        Some(DataFields {
            container: self.container,
            fields,
        })
    }
}

/// Whether the rendering gives an element of this name the rules of `EventData`
/// (its `Data` children named or gathered), or is one.
fn container_name(name: &str) -> bool {
    matches!(name, "Data" | "EventData" | "UserData")
}

/// Whether a dependency of `guards` is NULL (an element we read would be left out).
fn guarded(values: &Values<'_>, guards: &[u16]) -> bool {
    guards.iter().any(|&slot| values.is_null(slot))
}

/// The text a source gives.
fn source_text(values: &Values<'_>, source: &Source) -> Option<String> {
    match source {
        Source::Text(text) => Some(text.clone()),
        Source::Slot(slot) => values.text(*slot),
    }
}

/// The element a node is, when it is one.
fn element_of<'t>(template: &'t Template, node: &Node) -> Option<&'t Element> {
    match node {
        Node::Element(index) => template.elements.get(*index),
        _ => None,
    }
}

/// The text of content of one node at most (none is empty text).
fn content(nodes: &[Node]) -> Option<Source> {
    match nodes {
        [] => Some(Source::Text(String::new())),
        [Node::Text(text)] => Some(Source::Text(text.clone())),
        [Node::Substitution { index, .. }] => Some(Source::Slot(*index)),
        _ => None,
    }
}

/// An element whose text is read: no child elements, one node of content at most.
fn element_text(element: &Element) -> Option<ElementText> {
    Some(ElementText {
        source: content(&element.children)?,
        attributes: !element.attributes.is_empty(),
    })
}

/// The attribute `name` of `element`: `Some(None)` when it has none, `None` when it
/// is there twice or its value is not one node.
fn attribute(element: &Element, name: &str) -> Option<Option<Source>> {
    let mut found = element.attributes.iter().filter(|(n, _)| n == name);
    let first = found.next();
    if found.next().is_some() {
        return None;
    }
    first
        .map(|(_, value)| content(value))
        .map_or(Some(None), |s| s.map(Some))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A template made by hand: the root first, then each element added.
    struct Build(Template);

    impl Build {
        fn new() -> Self {
            Build(Template {
                elements: vec![Element::default()],
            })
        }
        /// An element named `name` with attributes and children; its index.
        fn add(&mut self, name: &str, attributes: &[(&str, Node)], children: Vec<Node>) -> Node {
            self.0.elements.push(element(name, attributes, children));
            Node::Element(self.0.elements.len() - 1)
        }
        fn root(mut self, name: &str, children: Vec<Node>) -> Template {
            self.0.elements[0] = element(name, &[], children);
            self.0
        }
    }

    fn element(name: &str, attributes: &[(&str, Node)], children: Vec<Node>) -> Element {
        Element {
            name: name.into(),
            dependency: None,
            attributes: attributes
                .iter()
                .map(|(n, v)| (n.to_string(), vec![v.clone()]))
                .collect(),
            children,
        }
    }

    fn slot(index: u16) -> Node {
        Node::Substitution {
            index,
            optional: false,
        }
    }

    fn text(t: &str) -> Node {
        Node::Text(t.into())
    }

    /// `EventData` with these `Data` (named when a name is given) and other elements.
    fn event_data(data: &[(Option<&str>, &str)]) -> Option<DataPlan> {
        let mut b = Build::new();
        let children = data
            .iter()
            .enumerate()
            .map(|(i, (name, element))| match name {
                Some(name) => b.add(element, &[("Name", text(name))], vec![slot(i as u16)]),
                None => b.add(element, &[], vec![slot(i as u16)]),
            })
            .collect();
        let t = b.root("EventData", children);
        match Plan::compile(&t)? {
            Plan::Data(plan) => Some(plan),
            Plan::Event(_) => None,
        }
    }

    fn names(plan: &DataPlan) -> Vec<&str> {
        plan.fields.iter().map(|(n, _)| n.as_str()).collect()
    }

    /// Values stored one after another in a buffer: the chunk and their places.
    fn values(stored: &[(u8, &[u8])]) -> (Vec<u8>, Vec<Raw>) {
        let (mut chunk, mut raws) = (Vec::new(), Vec::new());
        for (ty, bytes) in stored {
            raws.push(Raw {
                ty: *ty,
                at: chunk.len(),
                len: bytes.len(),
            });
            chunk.extend_from_slice(bytes);
        }
        (chunk, raws)
    }

    #[test]
    fn event_data_shapes_that_compile_and_those_that_do_not() {
        let named = event_data(&[(Some("A"), "Data"), (Some("B"), "Data"), (None, "Binary")]);
        assert_eq!(names(&named.unwrap()), ["A", "B", "Binary"]);
        let positional = event_data(&[(None, "Data"), (None, "Data"), (None, "Data")]);
        assert_eq!(names(&positional.unwrap()), ["Data", "Data_2", "Data_3"]);
        // Named and unnamed together: the rendering skips the unnamed ones.
        assert_eq!(event_data(&[(Some("A"), "Data"), (None, "Data")]), None);
        // A repeated name is numbered or made an array by the rendering.
        assert_eq!(
            event_data(&[(Some("A"), "Data"), (Some("A"), "Data")]),
            None
        );
        // Positional Data after another element are written where the first is.
        assert_eq!(event_data(&[(None, "Binary"), (None, "Data")]), None);
        // An element that the rendering treats as a container is not a leaf.
        assert_eq!(event_data(&[(None, "Data"), (None, "UserData")]), None);
        // A name JSON would escape.
        assert_eq!(event_data(&[(Some("a\"b"), "Data")]), None);
    }

    #[test]
    fn user_data_is_one_element_of_leaves() {
        let mut b = Build::new();
        let a = b.add("A", &[], vec![slot(0)]);
        let c = b.add("C", &[], vec![]);
        let only = b.add("LogFileCleared", &[("xmlns", text("x"))], vec![a, c]);
        let t = b.root("UserData", vec![only.clone()]);
        let Some(Plan::Data(plan)) = Plan::compile(&t) else {
            panic!("no plan")
        };
        assert_eq!(plan.container, Container::UserData);
        assert_eq!(names(&plan), ["A", "C"]);
        let (chunk, raws) = values(&[(0x01, b"x\0y\0")]);
        let fields = plan
            .apply(&Values {
                chunk: &chunk,
                values: &raws,
            })
            .unwrap();
        assert_eq!(
            fields.fields,
            [("A".to_string(), "xy".to_string()), ("C".into(), "".into())]
        );
        // Two elements: the flattening takes the first with a value only.
        let mut b = Build::new();
        let one = b.add("One", &[], vec![text("1")]);
        let two = b.add("Two", &[], vec![text("2")]);
        assert_eq!(Plan::compile(&b.root("UserData", vec![one, two])), None);
    }

    #[test]
    fn an_event_reads_its_facts_and_refuses_what_it_cannot_follow() {
        let mut b = Build::new();
        let provider = b.add("Provider", &[("Name", text("P"))], vec![]);
        let id = b.add("EventID", &[], vec![slot(0)]);
        let time = b.add("TimeCreated", &[("SystemTime", slot(1))], vec![]);
        let system = b.add("System", &[], vec![provider, id, time]);
        let t = b.root("Event", vec![system, slot(2)]);
        let Some(Plan::Event(plan)) = Plan::compile(&t) else {
            panic!("no plan")
        };
        let ticks = 132_914_222_379_101_061u64.to_le_bytes();
        let run = |stored: &[(u8, &[u8])]| {
            let (chunk, raws) = values(stored);
            let mut nested_calls = 0;
            let parsed = plan.apply(
                &Values {
                    chunk: &chunk,
                    values: &raws,
                },
                &mut |_| {
                    nested_calls += 1;
                    Some(DataFields {
                        container: Container::EventData,
                        fields: vec![("F".into(), "v".into())],
                    })
                },
            );
            (parsed, nested_calls)
        };
        let (parsed, calls) = run(&[(0x06, &4624u16.to_le_bytes()), (0x11, &ticks), (0x21, b"x")]);
        let parsed = parsed.unwrap();
        assert_eq!(calls, 1);
        assert_eq!(parsed.record.provider, "P");
        assert_eq!(parsed.event_id.as_deref(), Some("4624"));
        assert_eq!(parsed.time.as_deref(), Some("2022-03-10T21:43:57.9101061Z"));
        assert_eq!(parsed.event_data.unwrap(), [("F".into(), "v".into())]);
        // The payload NULL and not optional, or nested BinXML in another value.
        assert!(run(&[(0x06, b"\x01\x00"), (0x11, &ticks), (0x00, b"")])
            .0
            .is_none());
        assert!(run(&[(0x21, b"x"), (0x11, &ticks), (0x21, b"x")])
            .0
            .is_none());
        // An empty time is left out of the rendering: no time, not an empty one.
        let (parsed, _) = run(&[(0x06, b"\x01\x00"), (0x01, b""), (0x21, b"x")]);
        assert_eq!(parsed.unwrap().time, None);
    }

    #[test]
    fn nested_fields_must_fit_where_they_go() {
        // `<Event><System/>%0</Event>` and `<Event><System/><UserData>%0</UserData></Event>`.
        let direct = {
            let mut b = Build::new();
            let system = b.add("System", &[], vec![]);
            b.root("Event", vec![system, slot(0)])
        };
        let within = {
            let mut b = Build::new();
            let system = b.add("System", &[], vec![]);
            let user_data = b.add("UserData", &[], vec![slot(0)]);
            b.root("Event", vec![system, user_data])
        };
        let (chunk, raws) = values(&[(0x21, b"x")]);
        let run = |template: &Template, container| {
            let Some(Plan::Event(plan)) = Plan::compile(template) else {
                panic!("no plan")
            };
            let values = Values {
                chunk: &chunk,
                values: &raws,
            };
            plan.apply(&values, &mut |_| {
                Some(DataFields {
                    container,
                    fields: vec![("F".into(), "v".into())],
                })
            })
        };
        let fields = |parsed: Option<Parsed>| parsed.map(|p| (p.event_data, p.user_data));
        let f = Some(vec![("F".to_string(), "v".to_string())]);
        assert_eq!(
            fields(run(&direct, Container::EventData)),
            Some((f.clone(), None))
        );
        assert_eq!(
            fields(run(&direct, Container::UserData)),
            Some((None, f.clone()))
        );
        assert_eq!(fields(run(&direct, Container::UserDataElement)), None);
        assert_eq!(
            fields(run(&within, Container::UserDataElement)),
            Some((None, f))
        );
        assert_eq!(fields(run(&within, Container::EventData)), None);
        // The nested template's root as the element of a UserData.
        let mut b = Build::new();
        let leaf = b.add("SubjectUserSid", &[], vec![slot(0)]);
        let root = b.root("LogFileCleared", vec![leaf]);
        let Some(Plan::Data(plan)) = Plan::compile(&root) else {
            panic!("no plan")
        };
        assert_eq!(plan.container, Container::UserDataElement);
        assert_eq!(names(&plan), ["SubjectUserSid"]);
    }
}
