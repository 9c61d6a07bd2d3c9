namespace GroupPay.Gateway.Infrastructure;

/// <summary>Absolute links the outside follows: share links and the OAuth redirect URI, under
/// <c>Gateway:PublicBaseUrl</c> or, when it is unset, the request's own scheme, host and path base.</summary>
internal static class PublicLinks
{
    public static string BaseUrl(HttpRequest request, GatewayOptions options) =>
        !string.IsNullOrEmpty(options.PublicBaseUrl)
            ? options.PublicBaseUrl.TrimEnd('/')
            : $"{request.Scheme}://{request.Host}{request.PathBase}";

    /// <summary><c>{base}/g/{groupId}?ref={code}</c>: the group page, carrying the sharer's referral code (never an openid).</summary>
    public static string ShareUrl(HttpRequest request, GatewayOptions options, string groupId, string? referralCode) =>
        BaseUrl(request, options) + "/g/" + Uri.EscapeDataString(groupId)
        + (string.IsNullOrEmpty(referralCode) ? "" : "?ref=" + Uri.EscapeDataString(referralCode));
}
