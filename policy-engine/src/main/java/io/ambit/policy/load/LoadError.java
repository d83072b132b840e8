package io.ambit.policy.load;

/**
 * One rejected object (or one unreadable file), with everything a person needs to find and fix it.
 *
 * @param file     the file, as given
 * @param line     1-based line of the offending node, or 0 when unknown
 * @param object   {@code Kind namespace/name}, or null when the error is not inside an object
 * @param field    the field path, e.g. {@code spec.rules[0].to[0].operation.ports[1]}, or null
 * @param message  what was wrong and what was expected
 */
public record LoadError(String file, int line, String object, String field, String message) {
    @Override
    public String toString() {
        var sb = new StringBuilder(file);
        if (line > 0) {
            sb.append(':').append(line);
        }
        sb.append(": ");
        if (object != null) {
            sb.append(object).append(": ");
        }
        if (field != null) {
            sb.append(field).append(": ");
        }
        return sb.append(message).toString();
    }
}
