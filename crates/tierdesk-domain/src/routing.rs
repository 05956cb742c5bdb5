//! Escalation routing (SPEC §3): service owner for the target tier, else the category's team,
//! else the tier's default team.

/// Where a routing decision came from; recorded in the escalation event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RouteSource {
    /// The caller named the team explicitly.
    Explicit,
    /// The ticket's service owns the target tier.
    Service,
    /// The ticket's category names a team (directly or through its default service).
    Category,
    /// The tier's default team.
    TierDefault,
}

/// The candidates a routing decision looks at, already resolved for the target tier.
#[derive(Debug, Clone, Default)]
pub struct RouteCandidates {
    /// Team the caller asked for.
    pub explicit: Option<i64>,
    /// Owning team of the ticket's service for the target tier.
    pub service_owner: Option<i64>,
    /// Team the ticket's category points at for the target tier.
    pub category_team: Option<i64>,
    /// The target tier's default team.
    pub tier_default: Option<i64>,
}

/// Picks the team: explicit, service, category, tier default — first present wins.
pub fn route(c: &RouteCandidates) -> Option<(i64, RouteSource)> {
    c.explicit
        .map(|t| (t, RouteSource::Explicit))
        .or(c.service_owner.map(|t| (t, RouteSource::Service)))
        .or(c.category_team.map(|t| (t, RouteSource::Category)))
        .or(c.tier_default.map(|t| (t, RouteSource::TierDefault)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn precedence_is_service_then_category_then_tier() {
        let mut c = RouteCandidates {
            explicit: None,
            service_owner: Some(1),
            category_team: Some(2),
            tier_default: Some(3),
        };
        assert_eq!(route(&c), Some((1, RouteSource::Service)));
        c.service_owner = None;
        assert_eq!(route(&c), Some((2, RouteSource::Category)));
        c.category_team = None;
        assert_eq!(route(&c), Some((3, RouteSource::TierDefault)));
        c.tier_default = None;
        assert_eq!(route(&c), None);
        c.explicit = Some(9);
        assert_eq!(route(&c), Some((9, RouteSource::Explicit)));
    }
}
