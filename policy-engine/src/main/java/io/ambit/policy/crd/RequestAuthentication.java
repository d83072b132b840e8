package io.ambit.policy.crd;

import java.util.List;

/** A validated RequestAuthentication; attached like an AuthorizationPolicy (authz-semantics §4). */
public record RequestAuthentication(
        PolicyMeta meta, Selector selector, List<TargetRef> targetRefs, List<JwtRule> jwtRules) {}
