using System.Globalization;
using System.IO.Compression;
using System.Text;
using GroupPay.WeChatPay.Bills;
using GroupPay.WeChatPay.Protocol;

namespace GroupPay.WeChatPay.Client;

public sealed partial class WeChatPayClient
{
    /// <summary>The largest bill accepted, compressed or not.</summary>
    public const int MaxBillBytes = 64 * 1024 * 1024;

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    public Task<WeChatPayResult<TradeBill>> DownloadBillAsync(DateOnly billDate, TradeBillType type = TradeBillType.All, CancellationToken cancellationToken = default)
    {
        var message = new WeChatPayMessage()
            .Add("bill_date", billDate.ToString("yyyyMMdd", CultureInfo.InvariantCulture))
            .Add("bill_type", BillTypeName(type))
            .Add("tar_type", "GZIP");
        return CallAsync("downloadbill", "pay/downloadbill", message, useCertificate: false, message["bill_date"]!, MaxBillBytes,
            (body, options, signType) => InterpretBill(body, billDate, options, signType), cancellationToken);
    }

    internal static string BillTypeName(TradeBillType type) => type switch
    {
        TradeBillType.All => "ALL",
        TradeBillType.Success => "SUCCESS",
        TradeBillType.Refund => "REFUND",
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, null),
    };

    /// <summary>
    /// A bill is not XML and not signed: the text, gzip-compressed (magic 1F 8B) when asked. Anything that starts
    /// like XML is WeChat's failure (<c>return_code=FAIL</c>, <c>return_msg</c>, <c>error_code</c>).
    /// </summary>
    private static WeChatPayResult<TradeBill> InterpretBill(byte[] body, DateOnly billDate, WeChatPayOptions options, WeChatPaySignType signType)
    {
        if (LooksLikeXml(body))
        {
            return InterpretBillFailure(body, options, signType);
        }
        try
        {
            var text = StrictUtf8.GetString(body is [0x1F, 0x8B, ..] ? Gunzip(body) : body);
            return WeChatPayResult<TradeBill>.Success(TradeBillParser.Parse(text, billDate));
        }
        catch (Exception ex) when (ex is WeChatPayProtocolException or InvalidDataException or DecoderFallbackException)
        {
            return Fail<TradeBill>(WeChatPayErrorKind.InvalidResponse, WeChatPayErrorCode.MalformedResponse, null, ex.Message);
        }
    }

    private static WeChatPayResult<TradeBill> InterpretBillFailure(byte[] body, WeChatPayOptions options, WeChatPaySignType signType)
    {
        WeChatPayMessage response;
        try
        {
            response = WeChatPayXml.Parse(body, MaxResponseBytes);
        }
        catch (WeChatPayProtocolException ex)
        {
            return Fail<TradeBill>(WeChatPayErrorKind.InvalidResponse, WeChatPayErrorCode.MalformedResponse, null, ex.Message);
        }
        if (response["return_code"] == "SUCCESS")
        {
            // A signed business answer (e.g. a foreign mch_id): verified and mapped like every other call's.
            return Interpret<TradeBill>(body, options, signType, _ => throw new WeChatPayProtocolException("A SUCCESS XML answer carries no bill."));
        }
        var returnMsg = response["return_msg"];
        var code = ParseBillCode(returnMsg, response["error_code"]);
        return Fail<TradeBill>(WeChatPayErrorKind.Communication, code, response["error_code"] ?? returnMsg, returnMsg);
    }

    /// <summary>downloadbill's <c>return_msg</c>s (its own wording, not err_codes) as codes.</summary>
    private static WeChatPayErrorCode ParseBillCode(string? returnMsg, string? errorCode) => returnMsg?.ToUpperInvariant() switch
    {
        "NO BILL EXIST" => WeChatPayErrorCode.NoBillExist,
        "BILL CREATING" => WeChatPayErrorCode.BillCreating,
        "SYSTEMERROR" or "SYSTEM ERROR" or "COMPRESSGZIP ERROR" or "UNCOMPRESSGZIP ERROR" => WeChatPayErrorCode.SystemError,
        "INVALID BILL_TYPE" or "DATA FORMAT ERROR" or "MISSING PARAMETER" or "INVALID BILL_DATE" => WeChatPayErrorCode.ParamError,
        "SIGN ERROR" => WeChatPayErrorCode.SignError,
        _ when errorCode == "20002" => WeChatPayErrorCode.NoBillExist,
        _ => WeChatPayError.ParseCode(returnMsg),
    };

    private static bool LooksLikeXml(ReadOnlySpan<byte> body)
    {
        var start = body.IndexOfAnyExcept(" \t\r\n"u8);
        return start >= 0 && body[start] == (byte)'<';
    }

    private static byte[] Gunzip(byte[] compressed)
    {
        using var input = new GZipStream(new MemoryStream(compressed), CompressionMode.Decompress);
        using var output = new MemoryStream();
        var buffer = new byte[81920];
        int read;
        while ((read = input.Read(buffer)) > 0)
        {
            if (output.Length + read > MaxBillBytes)
            {
                throw new WeChatPayProtocolException(WeChatPayRejectReason.Oversize, $"The bill exceeds {MaxBillBytes} bytes uncompressed.");
            }
            output.Write(buffer, 0, read);
        }
        return output.ToArray();
    }
}
