package io.ambit.ztunnel.admin;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * The logging levels behind admin {@code /logging}, as ztunnel's: {@code POST ?level=FILTER} sets them,
 * {@code POST ?reset} restores the configured ones, no parameter lists them. A filter is ztunnel's
 * {@code RUST_LOG} shape: a default level, {@code logger=level} pairs, or both, comma separated
 * ({@code info}, {@code access=off}, {@code warn,io.ambit.ztunnel.inbound=debug}). The logging backend
 * applies them (the CLI provides it); this module only knows SLF4J.
 */
public interface LogLevels {
    /** The levels a filter may name. */
    Set<String> LEVELS = Set.of("trace", "debug", "info", "warn", "error", "off");

    /**
     * Most {@code logger=level} pairs in one filter. The backend keeps every logger it is asked about for
     * the life of the process, so a filter cannot name them without bound.
     */
    int MAX_PAIRS = 64;

    /** Longest logger name taken (Java logger names are class and package names). */
    int MAX_LOGGER_NAME = 256;

    /** One {@code logger: level} line per configured logger, the root first as {@code default}. */
    String describe();

    /** Applies a parsed filter: logger name (empty for the default) to level. */
    void apply(Map<String, String> levels);

    /** Restores the levels the process started with. */
    void reset();

    /**
     * Parses a filter.
     *
     * @throws IllegalArgumentException naming the bad part and what is expected
     */
    static Map<String, String> parse(String filter) {
        var out = new LinkedHashMap<String, String>();
        if (filter == null || filter.isBlank()) {
            throw new IllegalArgumentException(
                    "empty level filter (expected: e.g. info, access=off, or" + " warn,io.ambit=debug)");
        }
        String[] parts = filter.split(",", -1);
        if (parts.length > MAX_PAIRS) {
            throw new IllegalArgumentException(
                    parts.length + " comma-separated parts (expected: at most " + MAX_PAIRS + ")");
        }
        for (String part : parts) {
            String p = part.trim();
            int eq = p.indexOf('=');
            String logger = eq < 0 ? "" : p.substring(0, eq).trim();
            String level = (eq < 0 ? p : p.substring(eq + 1)).trim().toLowerCase(Locale.ROOT);
            if (eq >= 0 && logger.isEmpty()) {
                throw new IllegalArgumentException("\"" + p + "\": no logger name before '=' (expected: logger=level)");
            }
            if (!logger.isEmpty() && !loggerName(logger)) {
                throw new IllegalArgumentException("\"" + shorten(logger) + "\": not a logger name (expected: up to "
                        + MAX_LOGGER_NAME + " letters, digits and . _ $ -, e.g. io.ambit.ztunnel.inbound)");
            }
            if (!LEVELS.contains(level)) {
                throw new IllegalArgumentException("\"" + p + "\": level \"" + level
                        + "\" (expected one of: trace, debug, info, warn, error, off)");
            }
            if (out.put(logger, level) != null) {
                throw new IllegalArgumentException("\""
                        + (logger.isEmpty() ? "the default level" : logger)
                        + "\" is set twice in \"" + filter + "\"");
            }
        }
        return out;
    }

    /** Whether {@code name} is a logger name a backend takes as such: a Java class or package name, or a word. */
    private static boolean loggerName(String name) {
        if (name.length() > MAX_LOGGER_NAME) {
            return false;
        }
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            boolean ok = (c >= 'a' && c <= 'z')
                    || (c >= 'A' && c <= 'Z')
                    || (c >= '0' && c <= '9')
                    || c == '.'
                    || c == '_'
                    || c == '$'
                    || c == '-';
            if (!ok) {
                return false;
            }
        }
        return true;
    }

    private static String shorten(String s) {
        return s.length() > 80 ? s.substring(0, 80) + "...(" + s.length() + " characters)" : s;
    }

    /** For processes without a backend that can change levels: lists nothing, refuses changes. */
    static LogLevels unsupported() {
        return new LogLevels() {
            @Override
            public String describe() {
                return "levels cannot be changed: no supported logging backend\n";
            }

            @Override
            public void apply(Map<String, String> levels) {
                throw new UnsupportedOperationException("no supported logging backend to change levels");
            }

            @Override
            public void reset() {
                throw new UnsupportedOperationException("no supported logging backend to change levels");
            }
        };
    }
}
