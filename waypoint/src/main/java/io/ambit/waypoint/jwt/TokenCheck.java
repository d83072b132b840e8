package io.ambit.waypoint.jwt;

/**
 * The verdict on one token: accepted by {@code rule}, or refused with {@code failure}.
 *
 * @param detail what the access log says about it (issuer, location, key problem)
 */
record TokenCheck(boolean ok, JwtFailure failure, String detail, RuleKeys rule, ParsedJwt jwt) {
    static TokenCheck accepted(RuleKeys rule, ParsedJwt jwt) {
        return new TokenCheck(true, null, null, rule, jwt);
    }

    static TokenCheck refused(JwtFailure failure, String detail) {
        return new TokenCheck(false, failure, detail, null, null);
    }
}
