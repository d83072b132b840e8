package io.ambit.ztunnel.admin;

import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * The routes of ztunnel's admin port (ztunnel-reference.md §7.3), on loopback only: {@code /config_dump}
 * (JSON), {@code /logging} and {@code /quitquitquit}. One place, so every command that runs a ztunnel
 * serves the same admin API.
 */
public final class AdminRoutes {
    private AdminRoutes() {}

    /**
     * @param configDump the {@code /config_dump} JSON, built per request
     * @param levels     what {@code /logging} reads and changes
     * @param quit       starts a graceful shutdown; called on an event loop, so it must hand off
     */
    public static Map<String, HttpEndpoint.Route> of(Supplier<String> configDump, LogLevels levels, Runnable quit) {
        return Map.of(
                "/config_dump", (method, query) -> HttpEndpoint.Reply.json(configDump.get()),
                "/logging", (method, query) -> logging(levels, method, query),
                "/quitquitquit",
                        (method, query) -> {
                            if (!method.equals("POST")) {
                                return HttpEndpoint.Reply.text(405, "POST to shut down\n");
                            }
                            quit.run();
                            return HttpEndpoint.Reply.text(200, "shutting down\n");
                        });
    }

    /** ztunnel's {@code /logging}: GET, or POST without parameters, lists; POST ?level= or ?reset changes. */
    static HttpEndpoint.Reply logging(LogLevels levels, String method, Map<String, List<String>> query) {
        boolean change = query.containsKey("level") || query.containsKey("reset");
        if (!change) {
            return HttpEndpoint.Reply.text(200, levels.describe());
        }
        if (!method.equals("POST")) {
            return HttpEndpoint.Reply.text(405, "POST to change levels (?level=FILTER or ?reset)\n");
        }
        try {
            if (query.containsKey("reset")) {
                levels.reset();
            } else {
                var values = query.get("level");
                if (values.size() != 1) {
                    return HttpEndpoint.Reply.text(400, "give level once (expected: ?level=FILTER)\n");
                }
                levels.apply(LogLevels.parse(values.getFirst()));
            }
        } catch (IllegalArgumentException e) {
            return HttpEndpoint.Reply.text(400, "bad level filter: " + e.getMessage() + "\n");
        } catch (UnsupportedOperationException e) {
            return HttpEndpoint.Reply.text(501, e.getMessage() + "\n");
        }
        return HttpEndpoint.Reply.text(200, levels.describe());
    }
}
