(function(){
  var errors=[];window.addEventListener('error',function(e){errors.push(String(e.message));document.body.setAttribute('data-errors',errors.join('|'));});
  var selects=document.querySelectorAll('.filters select');
  var view=document.querySelector('select[name=view]');
  var equality=document.querySelector('select[name=equality]');
  // The scorecard shown: the whole council's rows, or one group's (a team's, ...), each a tbody of the page
  // (a tbody without data-view, as in a council's own table block, is the whole council's).
  function apply(){
    var key=view?view.value:'';var counts={};var total=0;
    document.querySelectorAll('table.kpi:not(.equality) tbody').forEach(function(body){
      var shown=(body.getAttribute('data-view')||'')===key;body.hidden=!shown;if(!shown){return;}
      body.querySelectorAll('tr').forEach(function(row){
        var show=true;selects.forEach(function(s){if(s.value!==''&&row.getAttribute('data-'+s.name.replace(/_/g,'-'))!==s.value){show=false;}});
        row.classList.toggle('hidden',!show);
        if(show&&!row.dataset.note){total++;counts['trend-'+row.dataset.trend]=(counts['trend-'+row.dataset.trend]||0)+1;
                 counts['target-'+row.dataset.status]=(counts['target-'+row.dataset.status]||0)+1;}
      });
    });
    document.querySelectorAll('[data-count]').forEach(function(cell){
      var k=cell.dataset.count;cell.textContent=k==='total'?total:(counts[k]||0);});
    var viewing=document.querySelector('[data-viewing]');
    if(viewing){viewing.textContent=key===''?'':'Showing '+view.options[view.selectedIndex].text+' only; the summary counts its rows.';}
    if(equality){document.querySelectorAll('table.equality tbody').forEach(function(body){
      body.hidden=body.getAttribute('data-indicator')!==equality.value;});}
  }
  selects.forEach(function(s){s.addEventListener('change',apply);});
  [view,equality].forEach(function(s){if(s){s.addEventListener('change',apply);}});
  // Choices can be given in the address too: scorecard.html#service_group=Child%20Protection&view=team:Team%20A
  location.hash.replace(/^#/,'').split('&').forEach(function(pair){
    var at=pair.indexOf('=');if(at<0){return;}
    var name=decodeURIComponent(pair.slice(0,at)),value=decodeURIComponent(pair.slice(at+1));
    document.querySelectorAll('select').forEach(function(s){if(s.name===name){s.value=value;}});
  });
  apply();document.body.setAttribute('data-ready','yes');
})();
