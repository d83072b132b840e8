package io.ambit.bench.hbone;

import java.util.HashMap;
import java.util.Map;
import java.util.Set;

/** {@code --name value} arguments of the small load tools, checked against the names a tool knows. */
final class CliArgs {
    private final Map<String, String> values = new HashMap<>();

    private CliArgs() {}

    /**
     * @throws IllegalArgumentException for an unknown name, a name without a value, or a repeated name
     */
    static CliArgs parse(String[] args, Set<String> known) {
        CliArgs parsed = new CliArgs();
        for (int i = 0; i < args.length; i += 2) {
            String name = args[i];
            if (!known.contains(name)) {
                throw new IllegalArgumentException("unknown argument " + name + " (expected one of " + known + ")");
            }
            if (i + 1 >= args.length) {
                throw new IllegalArgumentException(name + ": missing value");
            }
            if (parsed.values.put(name, args[i + 1]) != null) {
                throw new IllegalArgumentException(name + " given twice");
            }
        }
        return parsed;
    }

    /**
     * The value of {@code name} as a number within [{@code min}, {@code max}], or {@code fallback} when not
     * given; a fallback outside the range makes the argument required.
     */
    long number(String name, long fallback, long min, long max) {
        String text = values.get(name);
        if (text == null) {
            if (fallback < min || fallback > max) {
                throw new IllegalArgumentException(name + ": missing (expected " + min + " to " + max + ")");
            }
            return fallback;
        }
        long value;
        try {
            value = Long.parseLong(text);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(name + " " + text + " (expected a number)");
        }
        if (value < min || value > max) {
            throw new IllegalArgumentException(name + " " + value + " (expected " + min + " to " + max + ")");
        }
        return value;
    }

    /** Runs a tool's main body, turning bad arguments into a usage message and exit status 2. */
    static void run(String usage, ThrowingRunnable body) throws Exception {
        try {
            body.run();
        } catch (IllegalArgumentException e) {
            System.err.println(e.getMessage());
            System.err.println("usage: " + usage);
            System.exit(2);
        }
    }

    @FunctionalInterface
    interface ThrowingRunnable {
        void run() throws Exception;
    }
}
