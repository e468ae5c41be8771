//! Lifting barriers (docs/domain.md §4 and §9): the diagnostic of the eight fields and the
//! professional project ([`diagnostics`]), the action plan ([`plan`]), the eligibility rules
//! and their facts ([`eligibility`]), the relays suggested for each barrier ([`suggestions`]),
//! and the referential of situations ([`situations`]). Everything about a person goes through
//! the file's gate (`persons::access`): one audit row per page read, one per write.

mod diagnostics;
mod eligibility;
mod plan;
mod situations;
mod suggestions;

pub use diagnostics::{
    DIAGNOSTIC_MAX_JOBS, DiagnosticInput, DiagnosticPage, DiagnosticView, Progress, Saved,
    diagnostic_page, discard_draft, input_names, save_diagnostic,
};
pub use eligibility::{
    RULE_PATHS, RuleForm, RuleList, RuleRow, delete_rule, facts_of, facts_of_person, rule_form,
    rules, rules_in_force, save_rule, set_service_rules,
};
pub use plan::{
    ActionChangeInput, ActionInput, ActionView, ObjectiveInput, ObjectiveView, PlanPage,
    PrepareInput, add_action, add_objective, change_action, overdue_of, plan_page,
    prepare_orientation,
};
pub use situations::{SituationInput, add_situation, situations, update_situation};
pub use suggestions::{FieldSuggestions, SUGGESTIONS_PER_FIELD, Suggestion, suggestions};
