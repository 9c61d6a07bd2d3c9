using System.Text.Json;
using System.Text.Json.Serialization;
using Flurl.Http;
using Microsoft.Extensions.Options;

namespace GroupPay.WeChatPay.OfficialAccount;

/// <summary>A credential WeChat issued and how long it lives (<c>expires_in</c>, 7200 s today).</summary>
public sealed record OfficialAccountCredential(string Value, TimeSpan Lifetime);

/// <summary>What a call gave: the credential, or WeChat's <c>errcode</c>/<c>errmsg</c>, or no usable answer
/// (<see cref="ErrCode"/> null).</summary>
public sealed record OfficialAccountResult(OfficialAccountCredential? Credential, int? ErrCode, string? Error)
{
    public bool IsSuccess => Credential is not null;

    /// <summary>40001 (invalid credential), 40014 (invalid access_token), 42001 (expired): fetch a new token.</summary>
    public bool TokenRejected => ErrCode is 40001 or 40014 or 42001;
}

public interface IOfficialAccountClient
{
    /// <summary>True when an app secret is configured.</summary>
    bool IsConfigured { get; }

    /// <summary>The official account's access token: <c>GET /cgi-bin/token?grant_type=client_credential</c>. Each
    /// fetch replaces the previous token at WeChat (which honours the old one for five more minutes), so one holder
    /// fetches for everyone.</summary>
    Task<OfficialAccountResult> GetAccessTokenAsync(CancellationToken cancellationToken = default);

    /// <summary>The JS-SDK ticket: <c>GET /cgi-bin/ticket/getticket?type=jsapi</c>.</summary>
    Task<OfficialAccountResult> GetJsapiTicketAsync(string accessToken, CancellationToken cancellationToken = default);
}

/// <summary>Calls the official account's server API with Flurl. The token request carries the app secret and the
/// ticket request the token in their queries, so nothing here logs a URL.</summary>
public sealed class OfficialAccountClient(
    IHttpClientFactory httpClientFactory, IOptionsMonitor<OfficialAccountOptions> options, IOptionsMonitor<WeChatPayOptions> merchant)
    : IOfficialAccountClient
{
    public const string HttpClientName = "GroupPay.WeChat.OfficialAccount";

    public bool IsConfigured => !string.IsNullOrEmpty(options.CurrentValue.AppSecret);

    public Task<OfficialAccountResult> GetAccessTokenAsync(CancellationToken cancellationToken = default)
    {
        var settings = options.CurrentValue;
        if (string.IsNullOrEmpty(settings.AppSecret))
        {
            return Task.FromResult(new OfficialAccountResult(null, null, "WeChat:AppSecret is not set."));
        }
        var url = settings.ApiBaseUrl.TrimEnd('/') + "/cgi-bin/token?grant_type=client_credential"
            + "&appid=" + Uri.EscapeDataString(merchant.CurrentValue.AppId)
            + "&secret=" + Uri.EscapeDataString(settings.AppSecret);
        return CallAsync(url, "access_token", settings, cancellationToken);
    }

    public Task<OfficialAccountResult> GetJsapiTicketAsync(string accessToken, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(accessToken);
        var settings = options.CurrentValue;
        var url = settings.ApiBaseUrl.TrimEnd('/') + "/cgi-bin/ticket/getticket?type=jsapi&access_token=" + Uri.EscapeDataString(accessToken);
        return CallAsync(url, "ticket", settings, cancellationToken);
    }

    private async Task<OfficialAccountResult> CallAsync(string url, string field, OfficialAccountOptions settings, CancellationToken cancellationToken)
    {
        try
        {
            using var flurl = new FlurlClient(httpClientFactory.CreateClient(HttpClientName));
            using var response = await flurl.Request(url).WithTimeout(settings.Timeout).AllowAnyHttpStatus()
                .GetAsync(HttpCompletionOption.ResponseContentRead, cancellationToken).ConfigureAwait(false);
            if (response.StatusCode is < 200 or > 299)
            {
                return new(null, null, $"HTTP {response.StatusCode}");
            }
            // WeChat labels its JSON text/plain at times: read the bytes whatever the content type says.
            var answer = JsonSerializer.Deserialize<Answer>(await response.GetStringAsync().ConfigureAwait(false));
            if (answer is null)
            {
                return new(null, null, "not a JSON object");
            }
            if (answer.ErrCode is { } code and not 0)
            {
                return new(null, code, answer.ErrMsg);
            }
            var value = field == "ticket" ? answer.Ticket : answer.AccessToken;
            return string.IsNullOrEmpty(value) || answer.ExpiresIn is not > 0
                ? new(null, null, $"no {field} or expires_in in the answer")
                : new(new(value, TimeSpan.FromSeconds(answer.ExpiresIn.Value)), null, null);
        }
        catch (FlurlHttpException ex) when (cancellationToken.IsCancellationRequested)
        {
            throw new OperationCanceledException("The WeChat call was cancelled.", ex, cancellationToken);
        }
        catch (FlurlHttpTimeoutException)
        {
            return new(null, null, $"no answer within {settings.Timeout}");
        }
        catch (FlurlHttpException ex)
        {
            return new(null, null, ex.InnerException?.Message ?? ex.Message);
        }
        catch (JsonException)
        {
            return new(null, null, "not JSON");
        }
    }

    private sealed record Answer(
        [property: JsonPropertyName("errcode")] int? ErrCode,
        [property: JsonPropertyName("errmsg")] string? ErrMsg,
        [property: JsonPropertyName("access_token")] string? AccessToken,
        [property: JsonPropertyName("ticket")] string? Ticket,
        [property: JsonPropertyName("expires_in")] int? ExpiresIn);
}
