package io.ambit.policy.crd;

/** PeerAuthentication mTLS mode. DISABLE is handled like PERMISSIVE in ambient (authz-semantics §3). */
public enum MtlsMode {
    UNSET,
    PERMISSIVE,
    STRICT,
    DISABLE
}
