package io.ambit.cli.authz;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.ambit.policy.engine.Decision;

/** One decision as one line of JSON, keys in the documented order. */
final class DecisionJson {
    private static final ObjectMapper JSON = new ObjectMapper();

    private DecisionJson() {}

    static String of(Decision d) {
        ObjectNode o = JSON.createObjectNode();
        o.put("decision", d.verdict().name());
        if (d.verdict() == Decision.Verdict.CUSTOM) {
            o.put("provider", d.provider());
        }
        o.put("reason", d.reason().text());
        if (d.policy() == null) {
            o.putNull("policy");
        } else {
            o.put("policy", d.policy());
        }
        if (d.rule() == null) {
            o.putNull("rule");
        } else {
            o.put("rule", d.rule());
        }
        o.put("explanation", d.explanation());
        if (!d.audit().isEmpty()) {
            var a = o.putArray("audit");
            d.audit().forEach(a::add);
        }
        if (d.dryRun() != null) {
            o.put("dryRun", d.dryRun());
        }
        return o.toString();
    }

    static String error(String message) {
        ObjectNode o = JSON.createObjectNode();
        o.put("error", message);
        return o.toString();
    }
}
