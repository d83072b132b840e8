package io.ambit.waypoint.jwt;

/**
 * Why a token was refused. The texts are Envoy's ({@code jwt_verify_lib} status strings), because they are
 * the response body a client of an Istio waypoint sees today and scripts grep for them; the last three are
 * Ambit's own limits, which Envoy does not have.
 */
public enum JwtFailure {
    BAD_FORMAT("Jwt is not in the form of Header.Payload.Signature"),
    HEADER_PARSE_ERROR("Jwt header is an invalid Base64url input or an invalid JSON"),
    HEADER_BAD_ALG("Jwt header [alg] field is not a string"),
    HEADER_ALG_NOT_IMPLEMENTED("Jwt header [alg] field value is invalid"),
    HEADER_BAD_KID("Jwt header [kid] field is not a string"),
    PAYLOAD_PARSE_ERROR("Jwt payload is an invalid Base64 or an invalid JSON"),
    SIGNATURE_PARSE_ERROR("Jwt signature is an invalid Base64"),
    UNKNOWN_ISSUER("Jwt issuer is not configured"),
    AUDIENCE_NOT_ALLOWED("Audiences in Jwt are not allowed"),
    NOT_YET_VALID("Jwt not yet valid"),
    EXPIRED("Jwt is expired"),
    VERIFICATION_FAILED("Jwt verification fails"),
    NO_VALID_KEYS("Jwks doesn't have any valid public key"),
    KID_ALG_MISMATCH("Jwks doesn't have key to match kid or alg from Jwt"),
    JWKS_FETCH_FAILED("Jwks remote fetch is failed"),
    TOO_LARGE("Jwt is larger than the waypoint accepts"),
    TOO_MANY("Too many Jwts in the request"),
    KID_TOO_LONG("Jwt header [kid] field is too long");

    private final String message;

    JwtFailure(String message) {
        this.message = message;
    }

    /** The response body, as Envoy words it. */
    public String message() {
        return message;
    }

    /** 403 for a token whose audience is not allowed (Envoy's one exception), 401 for everything else. */
    public int httpStatus() {
        return this == AUDIENCE_NOT_ALLOWED ? 403 : 401;
    }
}
