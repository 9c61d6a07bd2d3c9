using System.Diagnostics;
using Flurl;
using Flurl.Http;
using GroupPay.WeChatPay.Protocol;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace GroupPay.WeChatPay.Client;

/// <summary>
/// Builds and signs v2 requests, sends them with Flurl over the factory's HTTP clients, verifies signed
/// answers and maps WeChat's codes to <see cref="WeChatPayError"/>. A request is retried (the same bytes,
/// so the same nonce and sign) only when WeChat says a retry with the same parameters is safe.
/// </summary>
public sealed partial class WeChatPayClient : IWeChatPayClient
{
    public const string HttpClientName = "GroupPay.WeChatPay";
    public const string CertificateHttpClientName = "GroupPay.WeChatPay.Certificate";

    private const int MaxResponseBytes = 256 * 1024;

    private readonly IHttpClientFactory _httpClientFactory;
    private readonly IOptionsMonitor<WeChatPayOptions> _options;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger<WeChatPayClient> _logger;

    public WeChatPayClient(
        IHttpClientFactory httpClientFactory,
        IOptionsMonitor<WeChatPayOptions> options,
        TimeProvider timeProvider,
        ILogger<WeChatPayClient> logger)
    {
        _httpClientFactory = httpClientFactory;
        _options = options;
        _timeProvider = timeProvider;
        _logger = logger;
    }

    public Task<WeChatPayResult<UnifiedOrderResult>> UnifiedOrderAsync(UnifiedOrderRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(request.TotalFee, 0);
        var options = _options.CurrentValue;
        var message = new WeChatPayMessage()
            .Add("body", request.Body)
            .Add("out_trade_no", request.OutTradeNo)
            .Add("total_fee", request.TotalFee)
            .Add("spbill_create_ip", request.SpbillCreateIp)
            .Add("notify_url", request.NotifyUrl ?? options.NotifyUrl)
            .Add("trade_type", request.TradeType)
            .Add("openid", request.OpenId)
            .Add("attach", request.Attach)
            .Add("time_expire", request.TimeExpire is { } expire ? WeChatPayTime.FormatCompact(expire) : null);
        return CallAsync("unifiedorder", "pay/unifiedorder", message, useCertificate: false, request.OutTradeNo,
            r => new UnifiedOrderResult(r.GetRequired("prepay_id"), r["trade_type"] ?? request.TradeType, r["code_url"]),
            cancellationToken);
    }

    public Task<WeChatPayResult<OrderQueryResult>> OrderQueryAsync(string outTradeNo, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(outTradeNo);
        var message = new WeChatPayMessage().Add("out_trade_no", outTradeNo);
        return CallAsync("orderquery", "pay/orderquery", message, useCertificate: false, outTradeNo,
            r => new OrderQueryResult(
                    OrderQueryResult.ParseTradeState(r.GetRequired("trade_state")),
                    r["trade_state_desc"],
                    r["out_trade_no"] ?? outTradeNo,
                    r["transaction_id"],
                    r.GetOptionalInt64("total_fee"),
                    r.GetOptionalInt64("cash_fee"),
                    r["openid"],
                    WeChatPayTime.ParseCompactOrNull(r["time_end"]),
                    r["attach"]),
            cancellationToken);
    }

    public Task<WeChatPayResult<CloseOrderResult>> CloseOrderAsync(string outTradeNo, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(outTradeNo);
        var message = new WeChatPayMessage().Add("out_trade_no", outTradeNo);
        return CallAsync("closeorder", "pay/closeorder", message, useCertificate: false, outTradeNo,
            _ => new CloseOrderResult(outTradeNo), cancellationToken);
    }

    public Task<WeChatPayResult<RefundResult>> RefundAsync(RefundRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(request.TotalFee, 0);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(request.RefundFee, 0);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(request.RefundFee, request.TotalFee);
        var options = _options.CurrentValue;
        var message = new WeChatPayMessage()
            .Add("out_trade_no", request.OutTradeNo)
            .Add("out_refund_no", request.OutRefundNo)
            .Add("total_fee", request.TotalFee)
            .Add("refund_fee", request.RefundFee)
            .Add("refund_desc", request.RefundDesc)
            .Add("notify_url", request.NotifyUrl ?? options.RefundNotifyUrl);
        return CallAsync("refund", "secapi/pay/refund", message, useCertificate: true, request.OutRefundNo,
            r => new RefundResult(
                r["out_trade_no"] ?? request.OutTradeNo,
                r["out_refund_no"] ?? request.OutRefundNo,
                r.GetRequired("refund_id"),
                r.GetOptionalInt64("refund_fee") ?? request.RefundFee,
                r["transaction_id"]),
            cancellationToken);
    }

    public Task<WeChatPayResult<RefundQueryResult>> RefundQueryAsync(RefundQueryRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        string?[] ids = [request.OutRefundNo, request.OutTradeNo, request.TransactionId, request.RefundId];
        if (ids.Count(id => !string.IsNullOrEmpty(id)) != 1)
        {
            throw new ArgumentException("Give exactly one of OutRefundNo, OutTradeNo, TransactionId, RefundId.", nameof(request));
        }
        var message = new WeChatPayMessage()
            .Add("out_refund_no", request.OutRefundNo)
            .Add("out_trade_no", request.OutTradeNo)
            .Add("transaction_id", request.TransactionId)
            .Add("refund_id", request.RefundId);
        return CallAsync("refundquery", "pay/refundquery", message, useCertificate: false, ids.First(id => !string.IsNullOrEmpty(id))!,
            RefundQueryResult.From, cancellationToken);
    }

    public JsapiPayParameters CreateJsapiParameters(string prepayId)
    {
        var options = _options.CurrentValue;
        return JsapiPayParameters.Create(options.AppId, prepayId, options.ApiKey, options.GetSignType(), _timeProvider.GetUtcNow());
    }

    private Task<WeChatPayResult<T>> CallAsync<T>(
        string operation,
        string path,
        WeChatPayMessage message,
        bool useCertificate,
        string safeId,
        Func<WeChatPayMessage, T> map,
        CancellationToken cancellationToken)
        where T : class =>
        CallAsync(operation, path, message, useCertificate, safeId, MaxResponseBytes,
            (response, options, signType) => Interpret(response, options, signType, map), cancellationToken);

    private async Task<WeChatPayResult<T>> CallAsync<T>(
        string operation,
        string path,
        WeChatPayMessage message,
        bool useCertificate,
        string safeId,
        int maxResponseBytes,
        Func<byte[], WeChatPayOptions, WeChatPaySignType, WeChatPayResult<T>> interpret,
        CancellationToken cancellationToken)
        where T : class
    {
        var options = _options.CurrentValue;
        var signType = options.GetSignType();
        message.Add("appid", options.AppId)
            .Add("mch_id", options.MchId)
            .Add("nonce_str", WeChatPayNonce.Create())
            .Add(WeChatPaySignature.SignTypeField, signType == WeChatPaySignType.Md5 ? null : signType.ToWireName())
            .SignWith(options.ApiKey, signType);
        var body = WeChatPayXml.SerializeToUtf8(message);
        var url = Url.Combine(options.BaseUrl, path);

        using var activity = WeChatPayTelemetry.ActivitySource.StartActivity($"WeChatPay {operation}", ActivityKind.Client);
        activity?.SetTag("wechatpay.operation", operation);
        activity?.SetTag("wechatpay.id", safeId);

        WeChatPayResult<T> result;
        var attempt = 0;
        while (true)
        {
            attempt++;
            var started = _timeProvider.GetTimestamp();
            result = await SendOnceAsync(url, body, useCertificate, options, signType, maxResponseBytes, interpret, cancellationToken).ConfigureAwait(false);
            WeChatPayTelemetry.RecordCall(operation, result.Error is { } failed ? failed.Code.ToString() : "success", _timeProvider.GetElapsedTime(started));
            if (result.Error is not { } error || !ShouldRetryNow(error) || attempt >= options.MaxAttempts)
            {
                break;
            }
            LogRetrying(_logger, operation, safeId, attempt, error.Code);
            var delay = options.RetryDelay * Math.Pow(2, attempt - 1);
            await Task.Delay(delay, _timeProvider, cancellationToken).ConfigureAwait(false);
        }

        activity?.SetTag("wechatpay.attempts", attempt);
        if (result.Error is { } failure)
        {
            activity?.SetStatus(ActivityStatusCode.Error, failure.Code.ToString());
            LogFailed(_logger, operation, safeId, attempt, failure.Kind, failure.Code, failure.Message);
        }
        return result;
    }

    private async Task<WeChatPayResult<T>> SendOnceAsync<T>(
        string url,
        byte[] body,
        bool useCertificate,
        WeChatPayOptions options,
        WeChatPaySignType signType,
        int maxResponseBytes,
        Func<byte[], WeChatPayOptions, WeChatPaySignType, WeChatPayResult<T>> interpret,
        CancellationToken cancellationToken)
        where T : class
    {
        byte[] responseBody;
        try
        {
            using var flurl = new FlurlClient(_httpClientFactory.CreateClient(useCertificate ? CertificateHttpClientName : HttpClientName));
            using var content = new ByteArrayContent(body);
            content.Headers.ContentType = new("text/xml") { CharSet = "utf-8" };
            using var response = await flurl.Request(url)
                .WithTimeout(options.Timeout)
                .AllowAnyHttpStatus()
                .PostAsync(content, HttpCompletionOption.ResponseHeadersRead, cancellationToken)
                .ConfigureAwait(false);
            if (response.StatusCode is < 200 or > 299)
            {
                return Fail<T>(WeChatPayErrorKind.Transport, WeChatPayErrorCode.HttpError, null, $"HTTP {response.StatusCode}");
            }
            await using var stream = await response.GetStreamAsync().ConfigureAwait(false);
            responseBody = await WeChatPayXml.ReadBodyAsync(stream, maxResponseBytes, cancellationToken).ConfigureAwait(false);
        }
        catch (FlurlHttpException ex) when (cancellationToken.IsCancellationRequested)
        {
            throw new OperationCanceledException("The WeChat Pay call was cancelled.", ex, cancellationToken);
        }
        catch (FlurlHttpTimeoutException)
        {
            return Fail<T>(WeChatPayErrorKind.Transport, WeChatPayErrorCode.Timeout, null, $"No answer within {options.Timeout}.");
        }
        catch (FlurlHttpException ex)
        {
            return Fail<T>(WeChatPayErrorKind.Transport, WeChatPayErrorCode.HttpError, null, ex.InnerException?.Message ?? ex.Message);
        }
        catch (WeChatPayProtocolException ex)
        {
            return Fail<T>(WeChatPayErrorKind.InvalidResponse, WeChatPayErrorCode.MalformedResponse, null, ex.Message);
        }
        return interpret(responseBody, options, signType);
    }

    /// <summary>A signed XML answer: return_code, signature, merchant, result_code, then <paramref name="map"/>.</summary>
    private static WeChatPayResult<T> Interpret<T>(byte[] responseBody, WeChatPayOptions options, WeChatPaySignType signType, Func<WeChatPayMessage, T> map)
        where T : class
    {
        try
        {
            var response = WeChatPayXml.Parse(responseBody, MaxResponseBytes);
            if (response["return_code"] != "SUCCESS")
            {
                var returnMsg = response["return_msg"];
                return Fail<T>(WeChatPayErrorKind.Communication, WeChatPayError.ParseCode(returnMsg), returnMsg, returnMsg);
            }
            var responseSignType = signType;
            if (response[WeChatPaySignature.SignTypeField] is { } named && !WeChatPaySignTypes.TryParse(named, out responseSignType))
            {
                return Fail<T>(WeChatPayErrorKind.InvalidResponse, WeChatPayErrorCode.InvalidSignature, null, $"Unknown sign_type '{named}'.");
            }
            if (!response.HasValidSignature(options.ApiKey, responseSignType))
            {
                return Fail<T>(WeChatPayErrorKind.InvalidResponse, WeChatPayErrorCode.InvalidSignature, null, "Response signature does not verify.");
            }
            if (response["appid"] is { } appId && appId != options.AppId || response["mch_id"] is { } mchId && mchId != options.MchId)
            {
                return Fail<T>(WeChatPayErrorKind.InvalidResponse, WeChatPayErrorCode.InvalidSignature, null, "Response is for another merchant.");
            }
            if (response["result_code"] != "SUCCESS")
            {
                var errCode = response["err_code"];
                return Fail<T>(WeChatPayErrorKind.Business, WeChatPayError.ParseCode(errCode), errCode, response["err_code_des"]);
            }
            return WeChatPayResult<T>.Success(map(response));
        }
        catch (WeChatPayProtocolException ex)
        {
            return Fail<T>(WeChatPayErrorKind.InvalidResponse, WeChatPayErrorCode.MalformedResponse, null, ex.Message);
        }
    }

    /// <summary>Errors where WeChat says to send the same request again at once.</summary>
    private static bool ShouldRetryNow(WeChatPayError error) => error.Code is WeChatPayErrorCode.SystemError
        or WeChatPayErrorCode.BizErrNeedRetry
        or WeChatPayErrorCode.Timeout
        or WeChatPayErrorCode.HttpError;

    private static WeChatPayResult<T> Fail<T>(WeChatPayErrorKind kind, WeChatPayErrorCode code, string? rawCode, string? message)
        where T : class => WeChatPayResult<T>.Failure(new WeChatPayError(kind, code, rawCode, message));

    [LoggerMessage(Level = LogLevel.Information, Message = "WeChat Pay {Operation} for {Id} failed on attempt {Attempt} with {Code}; retrying")]
    private static partial void LogRetrying(ILogger logger, string operation, string id, int attempt, WeChatPayErrorCode code);

    [LoggerMessage(Level = LogLevel.Warning, Message = "WeChat Pay {Operation} for {Id} failed after {Attempts} attempt(s): {Kind}/{Code} {Detail}")]
    private static partial void LogFailed(ILogger logger, string operation, string id, int attempts, WeChatPayErrorKind kind, WeChatPayErrorCode code, string? detail);
}
