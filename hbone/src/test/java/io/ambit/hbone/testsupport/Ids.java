package io.ambit.hbone.testsupport;

import io.ambit.hbone.identity.SpiffeId;

/** Identities the tests use. */
public final class Ids {
    public static final String TRUST_DOMAIN = "cluster.local";
    public static final SpiffeId CLIENT = SpiffeId.parse("spiffe://cluster.local/ns/default/sa/sleep");
    public static final SpiffeId SERVER = SpiffeId.parse("spiffe://cluster.local/ns/default/sa/httpbin");
    public static final SpiffeId OTHER_SERVER = SpiffeId.parse("spiffe://cluster.local/ns/default/sa/other");
    public static final SpiffeId FOREIGN = SpiffeId.parse("spiffe://evil.example/ns/default/sa/sleep");

    private Ids() {}
}
