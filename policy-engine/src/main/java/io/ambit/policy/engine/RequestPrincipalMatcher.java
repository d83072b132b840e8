package io.ambit.policy.engine;

import io.ambit.policy.match.StringMatcher;
import java.util.List;

/**
 * {@code requestPrincipals} and {@code request.auth.principal} (authz-semantics §2.6a): each pattern is
 * split at its last {@code /} and the halves are matched against the token's {@code iss} and {@code sub}
 * separately, so URL issuers work; a pattern without {@code /} is read as {@code *}-adjusted halves.
 */
final class RequestPrincipalMatcher {
    private final StringMatcher[] issuers;
    private final StringMatcher[] subjects;

    RequestPrincipalMatcher(List<String> patterns) {
        issuers = new StringMatcher[patterns.size()];
        subjects = new StringMatcher[patterns.size()];
        for (int i = 0; i < patterns.size(); i++) {
            String p = patterns.get(i);
            String iss;
            String sub;
            int slash = p.lastIndexOf('/');
            if (p.equals("*")) {
                iss = "*";
                sub = "*";
            } else if (slash >= 0) {
                iss = p.substring(0, slash);
                sub = p.substring(slash + 1);
            } else if (p.startsWith("*")) {
                // "*abc": any issuer, subject with suffix abc
                iss = "*";
                sub = p;
            } else if (p.endsWith("*")) {
                // "abc*": issuer with prefix abc, any subject
                iss = p;
                sub = "*";
            } else {
                // no slash, no wildcard: can never equal "iss/sub"; keep it unmatchable but exact
                iss = p;
                sub = "";
            }
            issuers[i] = StringMatcher.of(List.of(iss.isEmpty() ? "\0" : iss));
            subjects[i] = sub.isEmpty() ? StringMatcher.of(List.of("\0")) : StringMatcher.of(List.of(sub));
        }
    }

    boolean matches(EvalContext c) {
        var t = c.auth;
        if (t == null) {
            return false;
        }
        for (int i = 0; i < issuers.length; i++) {
            if (issuers[i].matches(t.issuer()) && subjects[i].matches(t.subject())) {
                return true;
            }
        }
        return false;
    }
}
