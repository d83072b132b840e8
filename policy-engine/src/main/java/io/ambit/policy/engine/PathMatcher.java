package io.ambit.policy.engine;

import io.ambit.policy.match.StringMatcher;
import io.ambit.policy.path.PathTemplate;
import java.util.ArrayList;
import java.util.List;

/** {@code paths}: URI templates ({@code {*}}, {@code {**}}) and the generic string rule, over a normalized path. */
final class PathMatcher {
    private final StringMatcher plain;
    private final PathTemplate[] templates;

    PathMatcher(List<String> values, boolean containsGlobs) {
        var plainValues = new ArrayList<String>();
        var t = new ArrayList<PathTemplate>();
        for (String v : values) {
            if (PathTemplate.isTemplate(v)) {
                t.add(PathTemplate.compile(v));
            } else {
                plainValues.add(v);
            }
        }
        this.plain = StringMatcher.of(plainValues, false, containsGlobs);
        this.templates = t.toArray(PathTemplate[]::new);
    }

    boolean matches(String path) {
        if (plain.matches(path)) {
            return true;
        }
        for (PathTemplate t : templates) {
            if (t.matches(path)) {
                return true;
            }
        }
        return false;
    }
}
