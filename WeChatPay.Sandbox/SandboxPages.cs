using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Unicode;

namespace GroupPay.WeChatPay.Sandbox;

/// <summary>The sandbox's small self-contained HTML pages (no external assets).</summary>
internal static class SandboxPages
{
    public const string ContentType = "text/html; charset=utf-8";

    /// <summary>Escapes markup characters but keeps Chinese text readable.</summary>
    private static readonly HtmlEncoder Html = HtmlEncoder.Create(UnicodeRanges.All);

    private static readonly JsonSerializerOptions JsOptions = new(JsonSerializerDefaults.Web) { Encoder = JavaScriptEncoder.Default };

    private const string Style =
        "body{font-family:system-ui,-apple-system,'PingFang SC',sans-serif;max-width:28rem;margin:2rem auto;padding:0 1rem;color:#222}" +
        "h1{font-size:1.2rem}.box{border:1px solid #ddd;border-radius:8px;padding:1rem;margin:1rem 0}" +
        ".amount{font-size:2rem;font-weight:600}.muted{color:#777;font-size:.85rem}.error{color:#b00020}" +
        "button,.button{display:inline-block;background:#07c160;color:#fff;border:0;border-radius:6px;padding:.6rem 1.2rem;" +
        "font-size:1rem;text-decoration:none;cursor:pointer;margin:.25rem 0}.secondary{background:#888}" +
        "input{font-size:1rem;padding:.4rem;width:100%;box-sizing:border-box}li{margin:.4rem 0}";

    public static string Layout(string title, string bodyHtml, string? script = null)
    {
        var html = new StringBuilder(2048)
            .Append("<!DOCTYPE html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\">")
            .Append("<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">")
            .Append("<title>").Append(Encode(title)).Append("</title><style>").Append(Style).Append("</style></head><body>")
            .Append("<p class=\"muted\">WeChat Pay sandbox — not the real WeChat</p>")
            .Append(bodyHtml);
        if (script is not null)
        {
            html.Append("<script>").Append(script).Append("</script>");
        }
        return html.Append("</body></html>").ToString();
    }

    public static string ErrorPage(string title, string message) =>
        Layout(title, $"<h1>{Encode(title)}</h1><p class=\"error\">{Encode(message)}</p>");

    public static string Encode(string? text) => Html.Encode(text ?? "");

    /// <summary>A value for inside an inline script: JSON with &lt;, &gt;, &amp; and quotes escaped.</summary>
    public static string Js(object? value) => JsonSerializer.Serialize(value, JsOptions);

}
