//! One newtype per identifier, so a user id can never be passed where a territory id is expected.

macro_rules! id {
    ($($name:ident),* $(,)?) => {$(
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub i64);

        impl From<i64> for $name {
            fn from(value: i64) -> Self {
                $name(value)
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.0.fmt(f)
            }
        }
    )*};
}

id!(
    UserId,
    OrganisationId,
    TerritoryId,
    MembershipId,
    MailId,
    StructureId,
    ServiceId,
    ActionId,
    PersonId,
    ConsentId,
    GroupMemberId,
    JournalEntryId,
    DiagnosticId,
    ObjectiveId,
    PlanActionId,
    SituationId,
    RuleId,
    OrientationId,
    CohortId,
    CollectiveActionId,
    EmployerId,
    OfferId,
    ExitId,
    CheckId,
    MeetingId,
    MeetingActionId,
    RoadmapActionId,
);
