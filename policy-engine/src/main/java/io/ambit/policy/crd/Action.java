package io.ambit.policy.crd;

/** {@code AuthorizationPolicy.action}; ALLOW when absent. */
public enum Action {
    ALLOW,
    DENY,
    AUDIT,
    CUSTOM
}
