package io.ambit.cli.logging;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import io.ambit.ztunnel.admin.LogLevels;
import java.util.LinkedHashMap;
import java.util.Map;
import org.slf4j.LoggerFactory;

/**
 * Admin {@code /logging} on logback: the levels the configuration file set are remembered at start, so
 * {@code ?reset} can put them back. Only loggers that have a level of their own are listed (the rest
 * inherit), the root as {@code default}.
 */
public final class LogbackLevels implements LogLevels {
    private final LoggerContext context;
    private final Map<String, Level> initial = new LinkedHashMap<>();

    private LogbackLevels(LoggerContext context) {
        this.context = context;
        for (Logger l : context.getLoggerList()) {
            if (l.getLevel() != null) {
                initial.put(l.getName(), l.getLevel());
            }
        }
    }

    /** The running logback, or a refusal when another SLF4J backend is bound. */
    public static LogLevels current() {
        return LoggerFactory.getILoggerFactory() instanceof LoggerContext ctx
                ? new LogbackLevels(ctx)
                : LogLevels.unsupported();
    }

    @Override
    public synchronized String describe() {
        var b = new StringBuilder();
        var root = context.getLogger(Logger.ROOT_LOGGER_NAME);
        b.append("default: ").append(name(root.getLevel())).append('\n');
        for (Logger l : context.getLoggerList()) {
            if (l != root && l.getLevel() != null) {
                b.append(l.getName()).append(": ").append(name(l.getLevel())).append('\n');
            }
        }
        return b.toString();
    }

    @Override
    public synchronized void apply(Map<String, String> levels) {
        for (var e : levels.entrySet()) {
            String logger = e.getKey().isEmpty() ? Logger.ROOT_LOGGER_NAME : e.getKey();
            context.getLogger(logger).setLevel(Level.toLevel(e.getValue(), null));
        }
    }

    @Override
    public synchronized void reset() {
        for (Logger l : context.getLoggerList()) {
            Level was = initial.get(l.getName());
            if (l.getLevel() != was) {
                l.setLevel(was);
            }
        }
    }

    private static String name(Level level) {
        return level == null ? "inherited" : level.levelStr.toLowerCase(java.util.Locale.ROOT);
    }
}
