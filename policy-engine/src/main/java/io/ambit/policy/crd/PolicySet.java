package io.ambit.policy.crd;

import java.util.List;

/** Everything loaded from a set of files: the valid objects, in load order. */
public record PolicySet(
        List<AuthorizationPolicy> authorizationPolicies,
        List<PeerAuthentication> peerAuthentications,
        List<RequestAuthentication> requestAuthentications) {
    public static final PolicySet EMPTY = new PolicySet(List.of(), List.of(), List.of());

    public PolicySet {
        authorizationPolicies = List.copyOf(authorizationPolicies);
        peerAuthentications = List.copyOf(peerAuthentications);
        requestAuthentications = List.copyOf(requestAuthentications);
    }

    public int size() {
        return authorizationPolicies.size() + peerAuthentications.size() + requestAuthentications.size();
    }
}
