package io.ambit.policy.engine;

import java.util.ArrayList;
import java.util.List;

/**
 * L7 trust-domain aliasing of principal values (authz-semantics §2.9): {@code cluster.local} (or any
 * bundle member) in a five-part principal stands for the local trust domain and every alias.
 */
final class TrustDomainBundle {
    private static final String CLUSTER_LOCAL = "cluster.local";
    private final List<String> domains;

    TrustDomainBundle(String trustDomain, List<String> aliases) {
        var d = new ArrayList<String>();
        d.add(trustDomain);
        for (String a : aliases) {
            if (!d.contains(a)) {
                d.add(a);
            }
        }
        this.domains = List.copyOf(d);
    }

    List<String> rewrite(List<String> principals) {
        var out = new ArrayList<String>();
        for (String p : principals) {
            String[] parts = p.split("/", -1);
            if (parts.length != 5 || parts[0].equals("*")) {
                out.add(p); // the policy does not pin a trust domain
                continue;
            }
            String td = parts[0];
            if (!td.equals(CLUSTER_LOCAL) && domains.stream().noneMatch(d -> matches(td, d))) {
                out.add(p);
                continue;
            }
            String rest = p.substring(td.length());
            for (String d : domains) {
                out.add(td.startsWith("*") && d.endsWith(td.substring(1)) ? p : d + rest);
            }
        }
        return out;
    }

    private static boolean matches(String policyTd, String domain) {
        return policyTd.startsWith("*") ? domain.endsWith(policyTd.substring(1)) : policyTd.equals(domain);
    }
}
