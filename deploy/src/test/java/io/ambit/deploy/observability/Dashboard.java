package io.ambit.deploy.observability;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** The Grafana dashboard {@code observability/ambit-dashboard.json}, read as Grafana would. */
record Dashboard(JsonNode json) {
    static final Path FILE = Path.of("observability", "ambit-dashboard.json");

    /** One query of one panel. */
    record Query(String panel, String refId, String expr, boolean instant) {
        /** The query as Prometheus gets it, with Grafana's variables filled in. */
        String resolved(String rateInterval) {
            return expr.replace("${namespace}", ".*")
                    .replace("$namespace", ".*")
                    .replace("$__rate_interval", rateInterval);
        }

        @Override
        public String toString() {
            return "\"" + panel + "\" " + refId;
        }
    }

    static Dashboard load() throws IOException {
        return new Dashboard(new ObjectMapper().readTree(FILE.toFile()));
    }

    /** Every panel that is not a row, rows' nested panels included. */
    List<JsonNode> panels() {
        var list = new ArrayList<JsonNode>();
        for (JsonNode p : json.get("panels")) {
            if (p.path("type").asText().equals("row")) {
                p.path("panels").forEach(list::add);
            } else {
                list.add(p);
            }
        }
        return list;
    }

    List<Query> queries() {
        var list = new ArrayList<Query>();
        for (JsonNode p : panels()) {
            for (JsonNode t : p.path("targets")) {
                list.add(new Query(
                        p.path("title").asText(),
                        t.path("refId").asText(),
                        t.path("expr").asText(),
                        t.path("instant").asBoolean(false)));
            }
        }
        return list;
    }

    JsonNode panel(String title) {
        return panels().stream()
                .filter(p -> p.path("title").asText().equals(title))
                .findFirst()
                .orElseThrow(() -> new AssertionError("no panel titled \"" + title + "\""));
    }
}
