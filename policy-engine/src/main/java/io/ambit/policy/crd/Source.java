package io.ambit.policy.crd;

import java.util.List;

/**
 * {@code rules[].from[].source}. Every list is non-null; an empty list means the field is unset.
 */
public record Source(
        List<String> principals,
        List<String> notPrincipals,
        List<String> requestPrincipals,
        List<String> notRequestPrincipals,
        List<String> namespaces,
        List<String> notNamespaces,
        List<String> serviceAccounts,
        List<String> notServiceAccounts,
        List<String> ipBlocks,
        List<String> notIpBlocks,
        List<String> remoteIpBlocks,
        List<String> notRemoteIpBlocks,
        List<String> trustDomains,
        List<String> notTrustDomains) {}
