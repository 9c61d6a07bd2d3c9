using System.Globalization;
using System.Text;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;

namespace GroupPay.WeChatPay.Sandbox;

/// <summary>The query of the cashier page: the <c>getBrandWCPayRequest</c> parameters, the payer, where to go back.</summary>
internal sealed record CashierPageQuery(
    [property: FromQuery(Name = "appId")] string? AppId,
    [property: FromQuery(Name = "timeStamp")] string? TimeStamp,
    [property: FromQuery(Name = "nonceStr")] string? NonceStr,
    [property: FromQuery(Name = "package")] string? Package,
    [property: FromQuery(Name = "signType")] string? SignType,
    [property: FromQuery(Name = "paySign")] string? PaySign,
    [property: FromQuery(Name = "openid")] string? Openid,
    [property: FromQuery(Name = "returnUrl")] string? ReturnUrl);

/// <summary><c>/sandbox/cashier</c>: what the H5 app opens instead of WeixinJSBridge.</summary>
internal static class CashierEndpoints
{
    public const string PayPath = "/sandbox/cashier/pay";

    public static IEndpointRouteBuilder MapCashier(this IEndpointRouteBuilder app)
    {
        app.MapGet("/sandbox/cashier", Page);
        app.MapPost(PayPath, Pay);
        return app;
    }

    private static Results<Ok<CashierReply>, BadRequest<CashierReply>, Conflict<CashierReply>> Pay(CashierPayRequest? request, Cashier cashier)
    {
        if (request is null)
        {
            return TypedResults.BadRequest(new CashierReply(CashierReply.Fail, "调用支付JSAPI缺少参数"));
        }
        var (failure, reply) = cashier.Pay(request);
        return failure switch
        {
            CashierFailure.None => TypedResults.Ok(reply),
            CashierFailure.Conflict => TypedResults.Conflict(reply),
            _ => TypedResults.BadRequest(reply),
        };
    }

    /// <summary>The page, never cached: it shows the order's state as it is now, also when the browser comes Back to it
    /// (a page kept in the back-forward cache is reloaded), so a paid order never reads NOTPAY with a Pay button.</summary>
    private static ContentHttpResult Page(
        [AsParameters] CashierPageQuery query, HttpRequest request, HttpResponse response, Cashier cashier, IOptions<SandboxOptions> options)
    {
        response.Headers.CacheControl = "no-store";
        if (query.ReturnUrl is { } returnUrl && !IsReturnUrl(returnUrl))
        {
            return Error("returnUrl must be an absolute http(s) URL or a local path.");
        }
        if (cashier.Describe(query.Package) is not { } order)
        {
            return Error("prepay_id无效");
        }
        var payer = query.Openid is { Length: > 0 }
            ? $"<p>Paying as <code>{SandboxPages.Encode(query.Openid)}</code></p>"
            : "<label>Payer openid <input id=\"openid\" list=\"users\" placeholder=\"openid\"></label><datalist id=\"users\">" +
              string.Concat(options.Value.EffectiveTestUsers.Select(u => $"<option value=\"{SandboxPages.Encode(u)}\">")) + "</datalist>";
        var paid = order.TradeState is "SUCCESS" or "REFUND";
        var body = new StringBuilder()
            .Append("<h1>微信支付 · WeChat Pay</h1><div class=\"box\">")
            .Append("<p>").Append(SandboxPages.Encode(order.Body)).Append("</p>")
            .Append("<p class=\"amount\">¥").Append((order.TotalFee / 100m).ToString("0.00", CultureInfo.InvariantCulture)).Append("</p>")
            .Append("<p class=\"muted\" id=\"state\">Order state: ").Append(SandboxPages.Encode(order.TradeState)).Append("</p>")
            .Append(paid ? "<p id=\"paid\">已支付 · This order is paid.</p>" : payer)
            .Append(paid ? "<button id=\"back\" type=\"button\">返回 · Back</button>" : "<button id=\"pay\" type=\"button\">Pay</button> ")
            .Append(paid ? "" : "<button id=\"cancel\" type=\"button\" class=\"secondary\">Cancel</button>")
            .Append("<p id=\"result\" role=\"status\"></p></div>")
            .ToString();
        var parameters = new CashierPayRequest(query.AppId, query.TimeStamp, query.NonceStr, query.Package, query.SignType, query.PaySign, query.Openid);
        var script =
            $"const params={SandboxPages.Js(parameters)};const returnUrl={SandboxPages.Js(query.ReturnUrl)};" +
            $"const payUrl={SandboxPages.Js(request.PathBase + PayPath)};" +
            """
            const result=document.getElementById('result');
            function back(){if(returnUrl){location.href=returnUrl;}}
            window.addEventListener('pageshow',e=>{if(e.persisted){location.reload();}});
            const backButton=document.getElementById('back');
            if(backButton){backButton.onclick=back;}
            const cancel=document.getElementById('cancel');
            if(cancel){cancel.onclick=()=>{result.textContent='get_brand_wcpay_request:cancel';back();};}
            const pay=document.getElementById('pay');
            if(pay)pay.onclick=async()=>{
              const input=document.getElementById('openid');
              const body={appId:params.appId,timeStamp:params.timeStamp,nonceStr:params.nonceStr,package:params.package,
                signType:params.signType,paySign:params.paySign,openid:params.openid||(input?input.value.trim():'')};
              try{
                const res=await fetch(payUrl,{method:'POST',headers:{'Content-Type':'application/json'},body:JSON.stringify(body)});
                const answer=await res.json();
                result.className=answer.err_msg.endsWith(':ok')?'':'error';
                result.textContent=answer.err_msg+(answer.err_desc?' — '+answer.err_desc:'');
                if(answer.err_msg.endsWith(':ok')){setTimeout(back,800);}
              }catch(e){result.className='error';result.textContent='get_brand_wcpay_request:fail — '+e;}
            };
            """;
        return TypedResults.Content(SandboxPages.Layout("微信支付 (sandbox)", body, script), SandboxPages.ContentType);
    }

    private static bool IsReturnUrl(string url) =>
        (url.StartsWith('/') && !url.StartsWith("//", StringComparison.Ordinal) && !url.StartsWith("/\\", StringComparison.Ordinal))
        || (Uri.TryCreate(url, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps));

    private static ContentHttpResult Error(string message) =>
        TypedResults.Content(SandboxPages.ErrorPage("微信支付", message), SandboxPages.ContentType, statusCode: StatusCodes.Status400BadRequest);
}
