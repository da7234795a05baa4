//! Counts over the knowledge base, for `toolmark rules` and for reports.

use std::collections::BTreeMap;

use serde::Serialize;

use super::model::{ArtifactKind, Category, KnowledgeBase, Strength, Tool};

/// Trace counts for one tool, one category or the whole knowledge base.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    /// All traces.
    pub traces: usize,
    /// Anchor traces.
    pub anchors: usize,
    /// Supporting traces.
    pub supporting: usize,
    /// Traces that show success (a subset of `supporting`).
    pub success: usize,
    /// Anchors per artifact kind (only kinds that occur).
    pub anchors_by_artifact: BTreeMap<ArtifactKind, usize>,
    /// Supporting traces per artifact kind (only kinds that occur).
    pub supporting_by_artifact: BTreeMap<ArtifactKind, usize>,
}

impl Counts {
    fn add_tool(&mut self, tool: &Tool) {
        for trace in &tool.traces {
            let kind = trace.artifact.kind();
            self.traces += 1;
            match trace.strength {
                Strength::Anchor => {
                    self.anchors += 1;
                    *self.anchors_by_artifact.entry(kind).or_default() += 1;
                }
                Strength::Supporting => {
                    self.supporting += 1;
                    *self.supporting_by_artifact.entry(kind).or_default() += 1;
                }
            }
            self.success += usize::from(trace.success);
        }
    }
}

/// Counts for one tool.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ToolSummary {
    /// Tool identifier.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Category.
    pub category: Category,
    /// Its traces.
    pub counts: Counts,
}

/// Counts for one category.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CategorySummary {
    /// The category.
    pub category: Category,
    /// Number of tools in it.
    pub tools: usize,
    /// Their traces together.
    pub counts: Counts,
}

/// Per-tool, per-category and total counts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Summary {
    /// One row per tool, in file order.
    pub tools: Vec<ToolSummary>,
    /// One row per category that has tools, in category order.
    pub categories: Vec<CategorySummary>,
    /// Everything.
    pub total: Counts,
}

impl KnowledgeBase {
    /// Counts traces per tool, per category and overall.
    pub fn summary(&self) -> Summary {
        let mut total = Counts::default();
        let mut by_category: BTreeMap<Category, (usize, Counts)> = BTreeMap::new();
        let tools = self
            .tools
            .iter()
            .map(|tool| {
                let mut counts = Counts::default();
                counts.add_tool(tool);
                total.add_tool(tool);
                let entry = by_category.entry(tool.category).or_default();
                entry.0 += 1;
                entry.1.add_tool(tool);
                ToolSummary {
                    id: tool.id.clone(),
                    name: tool.name.clone(),
                    category: tool.category,
                    counts,
                }
            })
            .collect();
        let categories = by_category
            .into_iter()
            .map(|(category, (tools, counts))| CategorySummary {
                category,
                tools,
                counts,
            })
            .collect();
        Summary {
            tools,
            categories,
            total,
        }
    }
}
